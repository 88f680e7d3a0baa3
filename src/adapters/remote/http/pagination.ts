// Following pages: Link rel="next" (GitHub, GitLab) or X-Next-Page (GitLab).

/** The next page's URL: Link rel="next" (GitHub, GitLab), else X-Next-Page on the current URL (GitLab). */
export function nextPageUrl(res: { headers: Record<string, string>; url: string }): string | null {
  const link = res.headers.link;
  if (link) {
    for (const part of link.split(',')) {
      const m = /<([^>]+)>\s*;(.*)/.exec(part.trim());
      if (m && /\brel="?([^"]*\s)?next(\s[^"]*)?"?/.test(m[2]!)) return new URL(m[1]!, res.url).href;
    }
  }
  const next = res.headers['x-next-page'];
  if (next && /^\d+$/.test(next.trim())) {
    const total = Number(res.headers['x-total-pages']);
    if (Number.isFinite(total) && total > 0 && Number(next) > total) return null;
    const u = new URL(res.url);
    u.searchParams.set('page', next.trim());
    return u.href;
  }
  return null;
}
