"""Jinja2 templates of the hosted pages (kept in Python so packaging needs nothing extra)."""

from __future__ import annotations

__all__ = ["TEMPLATES"]

_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% block title %}{% endblock %} · stripesim</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
.error{color:#b00020}table{border-collapse:collapse}td,th{padding:.25rem .5rem;text-align:left}
form.inline{display:inline}fieldset{margin:1rem 0}</style></head>
<body><p><small>stripesim test mode</small></p>{% block body %}{% endblock %}</body></html>"""

TEMPLATES = {
    "base.html": _BASE,
    "message.html": """{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}
{% block body %}<h1>{{ title }}</h1><p>{{ message }}</p>{% endblock %}""",
    "pay.html": """{% extends "base.html" %}{% block title %}Checkout{% endblock %}
{% block body %}{% if session.mode == 'setup' %}<h1>Save a card for later payments</h1>{% else %}
<h1>Pay {{ (session.amount_total / 100) | round(2) }} {{ session.currency | upper }}</h1>{% endif %}
<table>{% for item in items %}<tr><td>{{ item.quantity }} × {{ item.description }}</td>
<td>{{ item.amount_total / 100 }} {{ item.currency | upper }}</td></tr>{% endfor %}</table>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/c/pay/{{ session.id }}">
<label>Email <input name="email" type="email" value="{{ session.customer_email or '' }}"></label>
{% if session.allow_promotion_codes %}<label>Promotion code <input name="promotion_code"></label>
{% endif %}
<fieldset><legend>Test card</legend>{% for value, label in cards %}
<label><input type="radio" name="payment_method" value="{{ value }}" {% if loop.first %}checked{% endif %}>
{{ label }}</label><br>{% endfor %}</fieldset>
<button type="submit">
{{ {'subscription': 'Subscribe', 'setup': 'Save card'}.get(session.mode, 'Pay') }}</button></form>
<form method="post" action="/c/pay/{{ session.id }}/cancel"><button type="submit">Cancel</button></form>
{% endblock %}""",
    "invoice.html": """{% extends "base.html" %}{% block title %}Invoice{% endblock %}
{% block body %}<h1>Invoice {{ invoice.number or invoice.id }}</h1>
<p>Status: <strong data-status>{{ invoice.status }}</strong></p>
<table>{% for line in invoice.lines.data %}<tr><td>{{ line.description or '' }}</td>
<td>{{ '%.2f' % (line.amount / 100) }} {{ invoice.currency | upper }}</td></tr>{% endfor %}
<tr><th>Total</th><th>{{ '%.2f' % (invoice.total / 100) }} {{ invoice.currency | upper }}</th></tr>
<tr><td>Amount due</td><td>{{ '%.2f' % (invoice.amount_due / 100) }} {{ invoice.currency | upper }}</td></tr>
<tr><td>Amount paid</td>
<td>{{ '%.2f' % (invoice.amount_paid / 100) }} {{ invoice.currency | upper }}</td></tr>
</table><p><a href="{{ invoice.invoice_pdf }}">Download PDF</a></p>{% endblock %}""",
    "3ds.html": """{% extends "base.html" %}{% block title %}3D Secure{% endblock %}
{% block body %}<h1>3D Secure test authentication</h1>
<form method="post" action="/c/3ds/{{ pi_id }}"><input type="hidden" name="session" value="{{ session_id }}">
<button name="outcome" value="succeed">Complete authentication</button>
<button name="outcome" value="fail">Fail authentication</button></form>{% endblock %}""",
    "portal.html": """{% extends "base.html" %}{% block title %}Billing{% endblock %}
{% block body %}<h1>Billing for {{ customer.email or customer.id }}</h1>
{% if message %}<p role="status">{{ message }}</p>{% endif %}
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<h2>Subscriptions</h2>{% for sub in subscriptions %}<section data-subscription="{{ sub.id }}">
<p>{{ sub.plan_name }} — {{ sub.status }}
{% if sub.cancel_at_period_end %} (cancels at period end){% endif %}</p>
{% if sub.cancel_at_period_end %}
<form class="inline" method="post"><input type="hidden" name="subscription" value="{{ sub.id }}">
<button name="action" value="resume">Renew subscription</button></form>
{% elif cancel_enabled %}
<form class="inline" method="post"><input type="hidden" name="subscription" value="{{ sub.id }}">
<button name="action" value="cancel">Cancel subscription</button></form>{% endif %}
{% if sub.status == 'paused' %}<form class="inline" method="post">
<input type="hidden" name="subscription" value="{{ sub.id }}">
<button name="action" value="unpause">Resume</button></form>{% endif %}
{% if prices %}<form method="post"><input type="hidden" name="subscription" value="{{ sub.id }}">
<select name="price">{% for price in prices %}<option value="{{ price.id }}"
{% if price.id == sub.price_id %}selected{% endif %}>{{ price.label }}</option>{% endfor %}</select>
<button name="action" value="switch">Update plan</button></form>{% endif %}
</section>{% else %}<p>No subscriptions.</p>{% endfor %}
{% if card_update %}<h2>Payment method</h2><form method="post"><select name="payment_method">
{% for value, label in cards %}<option value="{{ value }}">{{ label }}</option>{% endfor %}</select>
<button name="action" value="card">Update card</button></form>{% endif %}
<h2>Invoices</h2><table>{% for inv in invoices %}<tr><td>{{ inv.number or inv.id }}</td>
<td>{{ inv.total / 100 }} {{ inv.currency | upper }}</td><td>{{ inv.status }}</td></tr>{% endfor %}</table>
{% if return_url %}<p><a href="{{ return_url }}">Return</a></p>{% endif %}{% endblock %}""",
    "portal_confirm.html": """{% extends "base.html" %}{% block title %}Confirm your new plan{% endblock %}
{% block body %}<h1>Confirm your new plan</h1>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<section data-subscription="{{ confirm.subscription }}"><table>
<tr><td>Current plan</td><td>{{ confirm.current }}</td></tr>
<tr><td>New plan</td><td data-price="{{ confirm.price_id }}">{{ confirm.price }}</td></tr>
<tr><td>Proration</td><td data-proration>{{ confirm.proration }}</td></tr>
<tr><td>{{ confirm.total_label }}</td><td data-total>{{ confirm.total }}</td></tr>
</table>
<form class="inline" method="post">
<input type="hidden" name="subscription" value="{{ confirm.subscription }}">
<button name="action" value="confirm_update">Confirm</button>
<button name="action" value="cancel_update">Cancel</button></form></section>{% endblock %}""",
}
