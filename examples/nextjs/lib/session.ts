// Who is signed in. The example keeps it to a cookie holding a user id; your app has its own session
// (NextAuth, Clerk, Supabase...): all coinslot needs is a stable id per user, its `host_user_id`.
export const USER_COOKIE = "demo_user";
export const DEFAULT_USER = "demo_user_1";

export function userFromCookieHeader(header: string | null): string {
  for (const part of (header ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === USER_COOKIE && value.length) return decodeURIComponent(value.join("="));
  }
  return DEFAULT_USER;
}
