"use server";
// Server actions: they run on the server, with the API key, for the signed-in user.
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { consumeFeature, startPlanCheckout, type FeatureResult } from "../lib/billing";
import { DEFAULT_USER, USER_COOKIE } from "../lib/session";

async function currentUser(): Promise<string> {
  return (await cookies()).get(USER_COOKIE)?.value ?? DEFAULT_USER;
}

// snippet:subscribe-action
/** <form action={subscribe}>: off to Stripe Checkout for the chosen plan. */
export async function subscribe(formData: FormData): Promise<void> {
  const interval = formData.get("interval") === "year" ? "year" : "month";
  const url = await startPlanCheckout(await currentUser(), String(formData.get("plan")), interval);
  redirect(url); // outside any try: redirect() works by throwing
}
// snippet:end

// snippet:export-action
/** The guarded feature: spend its credits, or say what to upgrade to. */
export async function exportReport(_previous: FeatureResult | null, formData: FormData): Promise<FeatureResult> {
  const requestId = String(formData.get("requestId")); // one per click: a retried request is charged once
  return consumeFeature(await currentUser(), "export", requestId);
}
// snippet:end
