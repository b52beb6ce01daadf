/** Strong ETags made of a digest, and If-None-Match read against them (device documents, the OpenAPI document). */

/** Whether `If-None-Match` names this digest (quoted or not, weak or not, or `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, digest: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
    return t === '*' || t === digest;
  });
}

export const etagOf = (digest: string): string => `"${digest}"`;
