import { customerState } from "../lib/billing";
import { config } from "../lib/config";
import { subscribe } from "./actions";
import { ExportPanel } from "./export-panel";
import { cookies } from "next/headers";
import { DEFAULT_USER, USER_COOKIE } from "../lib/session";

export const dynamic = "force-dynamic";

export default async function Home() {
  const user = (await cookies()).get(USER_COOKIE)?.value ?? DEFAULT_USER;
  const state = await customerState(user);
  const coinslot = config.publicCoinslotUrl;
  return (
    <main>
      <h1>PatchBook</h1>
      <ExportPanel />

      {/* snippet:pricing-element */}
      <section id="pricing" aria-labelledby="pricing-heading">
        <h2 id="pricing-heading">Plans</h2>
        <script type="module" src={`${coinslot}/static/elements/coinslot-pricing-table.js`} async />
        <coinslot-pricing-table api-base={coinslot} checkout-url="/api/checkout" current-plan={state.plan} />
      </section>
      {/* snippet:end */}

      <form action={subscribe}>
        <input type="hidden" name="plan" value="pro" />
        <input type="hidden" name="interval" value="month" />
        <button type="submit">Go Pro (server action)</button>
      </form>
    </main>
  );
}
