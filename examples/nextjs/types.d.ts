// Next.js's own references (what `next dev` writes to next-env.d.ts), kept here so `tsc` works on a fresh clone.
/// <reference types="next" />
/// <reference types="next/image-types/global" />

// <coinslot-pricing-table> in JSX (the element's attributes, as strings).
declare module "react" {
  namespace JSX {
    interface IntrinsicElements {
      "coinslot-pricing-table": React.DetailedHTMLProps<React.HTMLAttributes<HTMLElement>, HTMLElement> & {
        "api-base": string;
        "checkout-url"?: string;
        "current-plan"?: string;
        interval?: "month" | "year";
      };
    }
  }
}

export {};
