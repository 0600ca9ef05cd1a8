/** Types for infra/healthcheck.mjs (imported by test/config-docs.test.ts). */
export interface HealthTarget {
  portVariable: string;
  defaultPort: number;
  path: string;
}
export declare const healthTargets: Record<'gateway' | 'mcp-proxy' | 'admin-portal' | 'demo-server', HealthTarget>;
export declare function healthUrl(service: string, environment: Record<string, string | undefined>): string;
