import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { adminPortalEnv } from '@mcpgw/admin-portal';
import { gatewayEnv } from '@mcpgw/gateway';
import { mcpProxyEnv } from '@mcpgw/mcp-proxy';
import { ROOT } from './support/compose.js';

/**
 * Issue 7, point 4: the Kubernetes manifests, validated without a cluster. Every YAML document
 * under infra/kubernetes is checked against the Kubernetes schemas of the npm package
 * `kubernetes-models` 4.5.1 (`new Deployment(doc).validate()` …); the production overlay is
 * rendered the way `kubectl apply -k` would for what it uses (resources, namespace, images,
 * strategic-merge patches matched by kind and name, a secretGenerator from an env file) and the
 * result validated again, then checked against the rules we hold it to and against the services'
 * config schemas. (kubernetes-models' schemas do not refuse unknown fields: a misspelt field is
 * caught only where a rule below reads it.)
 */

const K8S = path.join(ROOT, 'infra/kubernetes');
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: unknown };

const MODELS: Record<string, new (doc: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
};
const SCHEMAS = { gateway: gatewayEnv, 'mcp-proxy': mcpProxyEnv, 'admin-portal': adminPortalEnv } as const;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? yamlFiles(full) : /\.ya?ml$/.test(entry) ? [full] : [];
  });
}

function docsOf(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJS() as Doc;
  });
}

function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind} (${doc.metadata?.name})`);
  new Model(doc as never).validate();
}

// ---- a renderer for the kustomize features these manifests use ------------------------------

type Kustomization = {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { path: string }[];
  secretGenerator?: { name: string; envs: string[] }[];
  labels?: { pairs: Record<string, string> }[];
};

/** Strategic merge as kubectl does it for these fields: maps deep-merged, lists of named items merged by name. */
function merge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    if (!patch.every((p) => p && typeof p === 'object' && 'name' in (p as object))) return patch;
    const out = [...base] as Record<string, unknown>[];
    for (const p of patch as Record<string, unknown>[]) {
      const at = out.findIndex((b) => b.name === p.name);
      if (at >= 0) out[at] = merge(out[at], p) as Record<string, unknown>;
      else out.push(p);
    }
    return out;
  }
  if (base && patch && typeof base === 'object' && typeof patch === 'object' && !Array.isArray(base) && !Array.isArray(patch)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return patch;
}

const NAMESPACED = new Set(['Deployment', 'Service', 'ConfigMap', 'Secret', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress', 'NetworkPolicy']);

function render(dir: string, envFile = (f: string) => f): Doc[] {
  const k = docsOf(path.join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
  let docs: Doc[] = (k.resources ?? []).flatMap((r) => {
    const target = path.join(dir, r);
    return existsSync(path.join(target, 'kustomization.yaml')) ? render(target, envFile) : docsOf(target);
  });
  for (const gen of k.secretGenerator ?? []) {
    const data = Object.fromEntries(
      gen.envs.flatMap((f) =>
        readFileSync(path.join(dir, envFile(f)), 'utf8')
          .split('\n')
          .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
          .map((l) => [l.slice(0, l.indexOf('=')), Buffer.from(l.slice(l.indexOf('=') + 1)).toString('base64')]),
      ),
    );
    docs.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: gen.name }, type: 'Opaque', data });
  }
  for (const p of k.patches ?? []) {
    for (const patch of docsOf(path.join(dir, p.path))) {
      const at = docs.findIndex((d) => d.kind === patch.kind && d.metadata.name === patch.metadata.name);
      if (at < 0) throw new Error(`patch ${p.path}: no ${patch.kind} ${patch.metadata.name} to patch`);
      docs[at] = merge(docs[at], patch) as Doc;
    }
  }
  for (const img of k.images ?? []) {
    for (const d of docs.filter((x) => x.kind === 'Deployment')) {
      for (const c of (d as never as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers) {
        const [name] = c.image.split(':');
        if (name === img.name) c.image = `${img.newName ?? name}:${img.newTag ?? c.image.split(':')[1]}`;
      }
    }
  }
  for (const set of k.labels ?? []) for (const d of docs) d.metadata.labels = { ...d.metadata.labels, ...set.pairs };
  if (k.namespace) docs = docs.map((d) => (NAMESPACED.has(d.kind) ? { ...d, metadata: { ...d.metadata, namespace: k.namespace } } : d));
  return docs;
}

// ---- the manifests ----------------------------------------------------------------------------

type Container = {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  startupProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
};
type DeploymentDoc = Doc & {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; terminationGracePeriodSeconds?: number; securityContext?: Record<string, unknown> } } };
};

const rendered = render(path.join(K8S, 'overlays/production'), (f) => (f === 'secrets.env' ? 'secrets.env.example' : f));
const of = <T extends Doc>(kind: string) => rendered.filter((d) => d.kind === kind) as T[];
const deployments = of<DeploymentDoc>('Deployment');
const configMap = (name: string) => of<Doc & { data: Record<string, string> }>('ConfigMap').find((c) => c.metadata.name === name);
const secret = of<Doc & { data: Record<string, string> }>('Secret').find((s) => s.metadata.name === 'mcpgw-secrets')!;

describe('infra/kubernetes: every document, as written', () => {
  const files = yamlFiles(K8S).filter((f) => !f.endsWith('kustomization.yaml') && !f.includes(`${path.sep}patches${path.sep}`));
  it.each(files.map((f) => [path.relative(ROOT, f)]))('%s is valid against the Kubernetes schemas', (file) => {
    const docs = docsOf(path.join(ROOT, file));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(() => validate(doc), `${doc.kind} ${doc.metadata?.name}`).not.toThrow();
  });

  it('the schemas do refuse a broken document', () => {
    const broken = structuredClone(deployments[0]!) as DeploymentDoc;
    (broken.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'http';
    expect(() => validate(broken)).toThrow(/containerPort/);
    expect(() => validate({ ...secret, data: { X: 42 } } as never)).toThrow();
  });

  it('the template Secret holds no value', () => {
    const [template] = docsOf(path.join(K8S, 'base/secret.example.yaml')) as (Doc & { stringData: Record<string, string> })[];
    expect(Object.values(template!.stringData).every((v) => v === '')).toBe(true);
    expect(readFileSync(path.join(K8S, 'overlays/production/.gitignore'), 'utf8')).toContain('secrets.env');
    expect(existsSync(path.join(K8S, 'overlays/production/secrets.env'))).toBe(false);
  });
});

describe('infra/kubernetes/overlays/production, rendered', () => {
  it('renders every kind the deployment needs, all valid, in namespace mcpgw', () => {
    expect(rendered.map((d) => d.kind).sort()).toEqual(
      ['ConfigMap', 'ConfigMap', 'ConfigMap', 'Deployment', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'HorizontalPodAutoscaler', 'Ingress', 'Namespace', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'Service'].sort(),
    );
    for (const doc of rendered) {
      expect(() => validate(doc), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
      if (NAMESPACED.has(doc.kind)) expect(doc.metadata.namespace).toBe('mcpgw');
    }
    expect(deployments.map((d) => d.spec.template.spec.containers[0]!.image).sort()).toEqual([
      'registry.example.com/mcpgw/admin-portal:0.1.0',
      'registry.example.com/mcpgw/gateway:0.1.0',
      'registry.example.com/mcpgw/mcp-proxy:0.1.0',
    ]);
  });

  it.each(Object.keys(SCHEMAS) as (keyof typeof SCHEMAS)[])('%s: every variable it sets exists in its config schema, and every secret it reads is in the Secret', (service) => {
    const deployment = deployments.find((d) => d.metadata.name === service)!;
    const container = deployment.spec.template.spec.containers.find((c) => c.name === service)!;
    const keys = new Set(Object.keys(SCHEMAS[service].shape));
    const names = [
      ...(container.env ?? []).map((e) => e.name),
      ...(container.envFrom ?? []).flatMap((f) => Object.keys(configMap(f.configMapRef!.name)?.data ?? {})),
    ];
    expect(names.filter((n) => !keys.has(n))).toEqual([]);
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      expect(ref.name).toBe('mcpgw-secrets');
      expect(ref.key).toBe(e.name);
      if (!ref.optional) expect(Object.keys(secret.data), `${service} needs ${ref.key}`).toContain(ref.key);
    }
    // Secrets come only from the Secret, never from a ConfigMap or a literal.
    const secretLike = names.filter((n) => /SECRET|MASTER_KEYS|TOKEN|DATABASE_URL|REDIS_URL/.test(n));
    for (const n of secretLike) expect((container.env ?? []).find((e) => e.name === n)?.valueFrom?.secretKeyRef, `${service}.${n}`).toBeDefined();
    // Required variables without defaults are all provided.
    const provided = new Set(names);
    const shape = SCHEMAS[service].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
    const required = [...keys].filter((k) => !shape[k]!.safeParse(undefined).success);
    expect(required.filter((k) => !provided.has(k))).toEqual([]);
    // mcp-proxy shares sessions: REDIS_URL is what makes a pod's loss end no session.
    if (service === 'mcp-proxy') expect(provided.has('REDIS_URL')).toBe(true);
  });

  it('every container has probes, resources, a locked-down security context and a preStop within the grace period', () => {
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext, d.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of pod.containers) {
        const where = `${d.metadata.name}/${c.name}`;
        expect(c.readinessProbe, where).toBeDefined();
        expect(c.livenessProbe, where).toBeDefined();
        expect(c.startupProbe, where).toBeDefined();
        expect(c.resources?.requests?.cpu, where).toBeDefined();
        expect(c.resources?.requests?.memory, where).toBeDefined();
        expect(c.resources?.limits?.memory, where).toBeDefined();
        expect(c.securityContext, where).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(c.image, where).not.toMatch(/:latest$/);
        // preStop sleep + the services' 10 s drain fit in the grace period.
        const sleep = Number(c.lifecycle?.preStop?.exec?.command.at(-1) ?? 0);
        expect(sleep + 10, where).toBeLessThan(pod.terminationGracePeriodSeconds ?? 30);
      }
    }
  });

  it('HPAs, PDBs, Services and NetworkPolicies point at what exists', () => {
    const podLabels = (name: string) => deployments.find((d) => d.metadata.name === name)!.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    for (const hpa of of<Doc & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }>('HorizontalPodAutoscaler')) {
      const target = deployments.find((d) => d.metadata.name === hpa.spec.scaleTargetRef.name);
      expect(target, hpa.metadata.name).toBeDefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    }
    const pdbs = of<Doc & { spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable?: number } }>('PodDisruptionBudget');
    for (const d of deployments) {
      expect(pdbs.some((p) => matches(p.spec.selector.matchLabels, podLabels(d.metadata.name))), `PDB for ${d.metadata.name}`).toBe(true);
      expect(d.spec.replicas, d.metadata.name).toBeGreaterThanOrEqual(2);
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    }
    const services = of<Doc & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } }>('Service');
    for (const s of services) {
      const d = deployments.find((x) => matches(s.spec.selector, x.spec.template.metadata.labels));
      expect(d, `Service ${s.metadata.name}`).toBeDefined();
      const ports = d!.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of s.spec.ports) expect(ports.some((cp) => cp.name === p.targetPort), `${s.metadata.name}:${p.targetPort}`).toBe(true);
    }
    // The URLs the services are given name these Services and ports.
    const gw = configMap('gateway-config')!.data;
    expect(gw.MCP_PROXY_URL).toBe('http://mcp-proxy:8000');
    expect(gw.ADMIN_PORTAL_URL).toBe('http://admin-portal:8080');
    expect(services.find((s) => s.metadata.name === 'mcp-proxy')!.spec.ports[0]!.port).toBe(8000);
    for (const np of of<Doc & { spec: { podSelector: { matchLabels: Record<string, string> }; ingress: { ports: { port: number }[] }[] } }>('NetworkPolicy')) {
      const d = deployments.find((x) => matches(np.spec.podSelector.matchLabels, x.spec.template.metadata.labels));
      expect(d, np.metadata.name).toBeDefined();
      const ports = d!.spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
      for (const rule of np.spec.ingress) for (const p of rule.ports) expect(ports).toContain(p.port);
    }
    const ingress = of<Doc & { spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] }; metadata: { annotations: Record<string, string> } }>('Ingress')[0]!;
    expect(ingress.spec.rules[0]!.http.paths[0]!.backend.service.name).toBe('gateway');
    expect(ingress.metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/proxy-buffering': 'off', 'cert-manager.io/cluster-issuer': 'letsencrypt' });
  });

  it('mcp-proxy is set up for shared sessions and for the stdio servers it spawns', () => {
    const mp = deployments.find((d) => d.metadata.name === 'mcp-proxy')! as DeploymentDoc & { spec: { template: { spec: { shareProcessNamespace?: boolean } } } };
    expect(mp.spec.template.spec.shareProcessNamespace).toBe(true);
    expect(mp.spec.replicas).toBeGreaterThanOrEqual(2);
  });
});
