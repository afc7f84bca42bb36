"use client";
// The guarded button: runs the server action, shows what is left or the upgrade prompt; the hooks show the
// balance and whether the feature is open, through this app's own /api/billing routes.
import { useCheck, useCustomerState } from "@coinslot/client/react";
import { useActionState, useEffect, useState } from "react";
import { exportReport } from "./actions";

export function ExportPanel() {
  const [result, action, pending] = useActionState(exportReport, null);
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  // snippet:hooks
  const state = useCustomerState({ url: "/api/billing/state" }); // state.data?.credits.available
  const check = useCheck({ url: "/api/billing/check", feature: "export" }); // check.data?.allowed
  // snippet:end
  const { refresh: refreshState } = state;
  const { refresh: refreshCheck } = check;

  useEffect(() => {
    if (result === null) return;
    setRequestId(crypto.randomUUID()); // the next click is a new use
    void refreshState();
    void refreshCheck();
  }, [result, refreshState, refreshCheck]);

  return (
    <section aria-labelledby="export-heading">
      <h2 id="export-heading">Export the PatchBook</h2>
      <p>
        {state.data ? `${state.data.plan_name} plan · ${state.data.credits.available} credits` : "Loading your plan…"}
        {check.data && !check.data.allowed ? ` · export needs an upgrade (${check.data.reason})` : ""}
      </p>
      <form action={action}>
        <input type="hidden" name="requestId" value={requestId} />
        <button type="submit" disabled={pending}>Export (3 credits)</button>
      </form>
      {result?.ok === true && <p role="status">Exported. {result.remaining} credits left.</p>}
      {result?.ok === false && (
        <p role="alert">
          {result.message} — <a href="#pricing">upgrade your plan or buy credits</a> to export.
        </p>
      )}
    </section>
  );
}
