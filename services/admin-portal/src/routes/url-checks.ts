import { AppError, urlPolicyRefusal, type UrlPolicy } from '@mcpgw/http';

/**
 * 400 naming the field when `url` points where upstream servers may not (SSRF: link-local, cloud
 * metadata, loopback unless allowed, non-http schemes, names resolving there). Used at
 * registration (servers, tenant endpoints) and again before each test connection.
 */
export async function refuseDeniedUrl(url: string | null, policy: UrlPolicy, field: string): Promise<void> {
  if (!url) return;
  const why = await urlPolicyRefusal(url, policy);
  if (why) throw new AppError('BAD_REQUEST', `Invalid input: ${field}: ${why}`, { extra: { problems: [`${field}: ${why}`] } });
}
