// <coinslot-pricing-table>: coinslot's plans on any page, with no build step and no third-party code.
//
//   <script type="module" src="https://billing.example.com/static/elements/coinslot-pricing-table.js"></script>
//   <coinslot-pricing-table api-base="https://billing.example.com" checkout-url="/billing/checkout"
//                           current-plan="core" interval="month"></coinslot-pricing-table>
//
// It reads GET {api-base}/v1/plans (public; the page's origin must be in COINSLOT_ALLOWED_REDIRECT_ORIGINS)
// and renders each plan with its price for the chosen interval, a monthly/yearly toggle when a plan has a
// yearly price (with the saving), and a button per plan. A click POSTs {"plan", "interval"} as JSON to
// `checkout-url` (your backend, which knows the user and calls coinslot's startCheckout with its API key),
// sending the page's cookies, and follows the `url` of the JSON answer (Stripe's Checkout).
// Before that it fires a cancelable `coinslot-checkout` event ({detail: {plan, interval}}): call
// preventDefault() to handle the click yourself.
//
// Theme it with CSS custom properties (set on the element or any ancestor), documented in docs/nextjs.md:
// --coinslot-font, --coinslot-text, --coinslot-muted, --coinslot-background, --coinslot-card-background,
// --coinslot-border, --coinslot-accent, --coinslot-accent-text, --coinslot-radius, --coinslot-gap,
// --coinslot-focus; and its parts: ::part(toggle | plan | price | button | message).

const STYLE = `
:host { display: block; font-family: var(--coinslot-font, system-ui, sans-serif); color: var(--coinslot-text, #1d2433);
  background: var(--coinslot-background, transparent); }
.toggle { display: inline-flex; border: 1px solid var(--coinslot-border, #d4d8e1); border-radius: var(--coinslot-radius, 10px);
  padding: 3px; gap: 3px; margin-bottom: var(--coinslot-gap, 16px); }
.toggle button { border: 0; background: transparent; color: inherit; font: inherit; padding: 6px 14px; cursor: pointer;
  border-radius: calc(var(--coinslot-radius, 10px) - 3px); }
.toggle button[aria-pressed="true"] { background: var(--coinslot-accent, #3451d1); color: var(--coinslot-accent-text, #fff); }
.plans { list-style: none; margin: 0; padding: 0; display: grid; gap: var(--coinslot-gap, 16px);
  grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); }
.plan { background: var(--coinslot-card-background, #fff); border: 1px solid var(--coinslot-border, #d4d8e1);
  border-radius: var(--coinslot-radius, 10px); padding: 20px; display: flex; flex-direction: column; gap: 8px; }
.plan.popular { border-color: var(--coinslot-accent, #3451d1); border-width: 2px; }
.plan h3 { margin: 0; font-size: 1.15em; }
.badge { font-size: .75em; font-weight: 600; color: var(--coinslot-accent, #3451d1); margin: 0; }
.description, .per, .saving, .note { color: var(--coinslot-muted, #5b6478); margin: 0; }
.price { margin: 0; } .amount { font-size: 1.8em; font-weight: 700; }
.saving { color: var(--coinslot-accent, #3451d1); }
ul.bullets { margin: 0; padding-left: 1.2em; flex: 1; }
.plan button { margin-top: 8px; border: 0; border-radius: var(--coinslot-radius, 10px); padding: 10px 14px; font: inherit;
  font-weight: 600; cursor: pointer; background: var(--coinslot-accent, #3451d1); color: var(--coinslot-accent-text, #fff); }
.plan button:disabled { cursor: default; opacity: .6; }
button:focus-visible { outline: 3px solid var(--coinslot-focus, #f5a524); outline-offset: 2px; }
.message:empty { display: none; } .message { margin-top: var(--coinslot-gap, 16px); }
`;

const INTERVALS = { month: "Monthly", year: "Yearly" };
const PER = { month: "/month", year: "/year" };

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// Amounts come as integer minor units; a currency's own number of decimals turns them into money to show.
function formatMinor(amountMinor, currency, locale) {
  const format = new Intl.NumberFormat(locale, { style: "currency", currency: currency.toUpperCase() });
  const decimals = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amountMinor / 10 ** decimals);
}

// On a server (a framework rendering the page that imports this module) there is no DOM: nothing to define.
const Base = globalThis.HTMLElement ?? class {};

class CoinslotPricingTable extends Base {
  static observedAttributes = ["api-base", "current-plan", "interval", "checkout-url"];

  #catalog = null;
  #interval = "month";
  #loadedFrom = null;
  #root;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
  }

  connectedCallback() {
    this.#interval = this.getAttribute("interval") === "year" ? "year" : "month";
    this.#load();
  }

  attributeChangedCallback(name) {
    if (!this.isConnected) return;
    if (name === "api-base") this.#load();
    else {
      if (name === "interval") this.#interval = this.getAttribute("interval") === "year" ? "year" : "month";
      this.#render();
    }
  }

  /** The interval shown now: "month" or "year". */
  get interval() {
    return this.#interval;
  }

  async #load() {
    const base = (this.getAttribute("api-base") || "").replace(/\/+$/, "");
    // An upgrade calls attributeChangedCallback and connectedCallback one after the other: one fetch.
    if (this.#loadedFrom === base) return this.#render();
    this.#loadedFrom = base;
    this.#catalog = null;
    this.#show(element("p", { role: "status" }, "Loading plans…"));
    try {
      const answer = await fetch(`${base}/v1/plans`, { headers: { accept: "application/json" } });
      if (!answer.ok) throw new Error(`coinslot answered ${answer.status}`);
      const catalog = await answer.json();
      if (this.#loadedFrom !== base) return; // api-base changed meanwhile: that answer is not wanted
      this.#catalog = catalog;
      this.#render();
      this.dispatchEvent(new CustomEvent("coinslot-loaded", { detail: { catalog: this.#catalog } }));
    } catch (error) {
      if (this.#loadedFrom !== base) return;
      this.#loadedFrom = null; // reconnecting or a new api-base tries again
      this.#show(element("p", { role: "alert", part: "message" }, "The plans could not be loaded. Please try again later."));
      console.error("coinslot-pricing-table: GET /v1/plans failed", error);
    }
  }

  #show(...nodes) {
    this.#root.replaceChildren(element("style", {}, STYLE), ...nodes.filter((node) => node !== null));
  }

  #render() {
    if (!this.#catalog) return;
    const plans = this.#catalog.plans;
    const yearly = plans.some((plan) => plan.prices.some((price) => price.interval === "year"));
    if (!yearly) this.#interval = "month";
    const list = element("ul", { class: "plans" }, ...plans.map((plan) => this.#card(plan)));
    const message = element("p", { class: "message", part: "message", role: "status", "aria-live": "polite" });
    this.#show(yearly ? this.#toggle(plans) : null, list, message);
  }

  #toggle(plans) {
    const savings = plans.flatMap((plan) => plan.prices.map((price) => price.yearly_saving_percent || 0));
    const best = Math.max(0, ...savings);
    const group = element("div", { class: "toggle", part: "toggle", role: "group", "aria-label": "Billing interval" });
    for (const interval of ["month", "year"]) {
      const label = interval === "year" && best > 0 ? `${INTERVALS.year} · save up to ${best}%` : INTERVALS[interval];
      const button = element("button", { type: "button", "data-interval": interval, "aria-pressed": String(this.#interval === interval) }, label);
      button.addEventListener("click", () => {
        if (this.#interval === interval) return;
        this.#interval = interval;
        this.#render();
        this.#root.querySelector(`.toggle button[data-interval="${interval}"]`)?.focus();
      });
      group.append(button);
    }
    return group;
  }

  #card(plan) {
    const current = this.getAttribute("current-plan") === plan.key;
    const price = plan.prices.find((candidate) => candidate.interval === this.#interval) ?? plan.prices[0] ?? null;
    const headingId = `coinslot-plan-${plan.key}`;
    const card = element("li", {
      class: ["plan", plan.popular ? "popular" : "", current ? "current" : ""].join(" ").trim(),
      part: "plan", "data-plan": plan.key, "aria-labelledby": headingId,
    });
    card.append(element("h3", { id: headingId }, plan.name));
    if (current) card.append(element("p", { class: "badge" }, "Your current plan"));
    else if (plan.popular) card.append(element("p", { class: "badge" }, "Most popular"));
    if (plan.description) card.append(element("p", { class: "description" }, plan.description));
    if (price) {
      card.append(element("p", { class: "price", part: "price" },
        element("span", { class: "amount" }, price.display_amount), " ", element("span", { class: "per" }, PER[price.interval] || "")));
      if (price.interval !== this.#interval) card.append(element("p", { class: "note" }, `Billed ${INTERVALS[price.interval].toLowerCase()}`));
      if (price.interval === "year" && price.yearly_saving_minor) {
        const saved = formatMinor(price.yearly_saving_minor, price.currency, document.documentElement.lang || undefined);
        card.append(element("p", { class: "saving" }, `Save ${saved} a year (${price.yearly_saving_percent}%)`));
      }
    } else {
      card.append(element("p", { class: "price", part: "price" }, element("span", { class: "amount" }, "Free")));
    }
    if (plan.bullets.length) card.append(element("ul", { class: "bullets" }, ...plan.bullets.map((line) => element("li", {}, line))));
    if (current) card.append(element("button", { type: "button", part: "button", disabled: true }, "Current plan"));
    else if (price && plan.kind === "subscription") {
      const button = element("button", { type: "button", part: "button" }, `Choose ${plan.name}`);
      button.addEventListener("click", () => this.#choose(plan, price.interval, button));
      card.append(button);
    }
    return card;
  }

  async #choose(plan, interval, button) {
    const detail = { plan: plan.key, interval };
    if (!this.dispatchEvent(new CustomEvent("coinslot-checkout", { detail, cancelable: true, bubbles: true, composed: true }))) return;
    const target = this.getAttribute("checkout-url");
    const message = this.#root.querySelector(".message");
    if (!target) {
      message.textContent = "No checkout-url is set on <coinslot-pricing-table>.";
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    message.textContent = `Starting checkout for ${plan.name}…`;
    try {
      const answer = await fetch(target, {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(detail),
      });
      const body = await answer.json().catch(() => ({}));
      if (!answer.ok || typeof body.url !== "string") {
        throw new Error(body?.error?.message || `the checkout endpoint answered ${answer.status}`);
      }
      window.location.assign(body.url);
    } catch (error) {
      message.textContent = `Checkout could not start: ${error.message}`;
      message.setAttribute("role", "alert");
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

if (globalThis.customElements && !customElements.get("coinslot-pricing-table")) {
  customElements.define("coinslot-pricing-table", CoinslotPricingTable);
}

export { CoinslotPricingTable };
