/** A page's <title> and meta tags, rendered by the server into the SPA's index.html; every value is plain text. */
export interface PageHead {
  status: number;
  title: string;
  /** `property`: OpenGraph; `name`: Twitter and other named tags. */
  meta: { property?: string; name?: string; content: string }[];
}
