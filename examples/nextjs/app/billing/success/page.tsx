// Stripe sends the browser back here after paying: apply the payment now and say what the user has.
import { cookies } from "next/headers";
import { finishCheckout } from "../../../lib/billing";
import { DEFAULT_USER, USER_COOKIE } from "../../../lib/session";

export const dynamic = "force-dynamic";

export default async function CheckoutSuccess({ searchParams }: { searchParams: Promise<{ session_id?: string }> }) {
  const { session_id: sessionId } = await searchParams;
  const user = (await cookies()).get(USER_COOKIE)?.value ?? DEFAULT_USER;
  if (!sessionId) return <p>No checkout to finish.</p>;
  const state = await finishCheckout(user, sessionId);
  return (
    <main>
      <h1>Thank you</h1>
      <p>
        You are on {state.plan_name}, with {state.credits.available} credits. <a href="/">Back to the app</a>
      </p>
    </main>
  );
}
