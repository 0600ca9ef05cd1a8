import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/compose.js';

/**
 * Issue 7, point 3: the image recipe checked by rules of our own (hadolint cannot be installed
 * here). docs/deployment.md ("Images") lists the same rules. Each rule is a function over the
 * parsed Dockerfile; the negative cases at the end show every rule catching what it is for.
 */

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions with their continuation lines joined; comments and blank lines dropped. */
export function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (buffer === '' && (line === '' || line.startsWith('#'))) return;
    if (buffer === '') start = index + 1;
    if (line.startsWith('#')) return;
    buffer += (buffer ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const [keyword, ...rest] = buffer.split(/\s+/);
      instructions.push({ keyword: keyword!.toUpperCase(), args: rest.join(' '), line: start });
      buffer = '';
    }
  });
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [from, as, name] = ins.args.split(/\s+/);
      stages.push({ from: from!, ...(as?.toUpperCase() === 'AS' ? { name } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') globalArgs.push(ins);
    } else stages.at(-1)!.instructions.push(ins);
  }
  return { globalArgs, stages };
}

type Parsed = ReturnType<typeof parseDockerfile>;

/** The image a FROM names, with global ARG defaults filled in. */
function resolveFrom(from: string, parsed: Parsed): string {
  return from.replace(/\$\{?(\w+)\}?/g, (_m, name: string) => {
    const arg = parsed.globalArgs.find((a) => a.args.split('=')[0] === name);
    return arg?.args.split('=').slice(1).join('=') ?? '';
  });
}

/** The rules; each returns its findings (empty: the rule holds). */
export const RULES: Record<string, (parsed: Parsed, dockerignore: string[]) => string[]> = {
  'every base image is pinned to a full version (x.y.z) or a digest, never latest': (parsed) => {
    const names = new Set(parsed.stages.map((s) => s.name).filter(Boolean));
    return parsed.stages
      .filter((s) => !names.has(s.from))
      .map((s) => resolveFrom(s.from, parsed))
      .filter((image) => !/@sha256:[0-9a-f]{64}$/.test(image) && !/:\d+\.\d+\.\d+[\w.-]*$/.test(image))
      .map((image) => `unpinned base image "${image}"`);
  },
  'the final stage runs as a named non-root user': (parsed) => {
    const users = parsed.stages.at(-1)!.instructions.filter((i) => i.keyword === 'USER');
    const last = users.at(-1)?.args.trim();
    return !last ? ['no USER in the final stage'] : /^(root|0)(:.*)?$/.test(last) ? [`USER ${last} is root`] : [];
  },
  'no secret in ENV, ARG or LABEL': (parsed) =>
    [...parsed.globalArgs, ...parsed.stages.flatMap((s) => s.instructions)]
      .filter((i) => ['ENV', 'ARG', 'LABEL'].includes(i.keyword))
      .flatMap((i) => i.args.split(/\s+(?=[A-Za-z_][\w.]*=)/).map((pair) => ({ pair, line: i.line })))
      .filter(({ pair }) => /(SECRET|PASSWORD|TOKEN|MASTER_KEYS|PRIVATE|API_KEY|CREDENTIAL)/i.test(pair.split('=')[0]!))
      .map(({ pair, line }) => `line ${line}: ${pair.split('=')[0]} set in the image`),
  'the final stage has a HEALTHCHECK in exec form': (parsed) => {
    const hc = parsed.stages.at(-1)!.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
    if (hc.length === 0) return ['no HEALTHCHECK'];
    return /CMD\s+\[/.test(hc.at(-1)!.args) ? [] : ['HEALTHCHECK CMD is not in exec (JSON) form'];
  },
  'CMD and ENTRYPOINT in exec form, so SIGTERM reaches the process (a shell form would eat it)': (parsed) =>
    parsed.stages
      .at(-1)!
      .instructions.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')
      .filter((i) => !i.args.trim().startsWith('[') || (/"sh", "-c"/.test(i.args) && !/"exec /.test(i.args)))
      .map((i) => `line ${i.line}: ${i.keyword} not in exec form (or a shell without exec)`),
  'no ADD (COPY is explicit; ADD fetches URLs and unpacks archives)': (parsed) =>
    parsed.stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'ADD').map((i) => `line ${i.line}: ADD`),
  'production dependencies only, from the lockfile': (parsed) => {
    const installs = parsed.stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'RUN' && /pnpm install|npm (ci|install)(?! --global)/.test(i.args));
    if (installs.length === 0) return ['no dependency install step'];
    return installs.filter((i) => !/--frozen-lockfile/.test(i.args) || !/--prod/.test(i.args)).map((i) => `line ${i.line}: install without --frozen-lockfile --prod`);
  },
  'the final stage copies no whole build context and no build tool': (parsed) => {
    const final = parsed.stages.at(-1)!.instructions;
    return [
      ...final.filter((i) => i.keyword === 'COPY' && /^(--\S+\s+)*\.\s/.test(i.args)).map((i) => `line ${i.line}: COPY . in the runtime stage`),
      ...final.filter((i) => i.keyword === 'RUN' && /(npm|pnpm|yarn) (install|add)|apt-get install/.test(i.args)).map((i) => `line ${i.line}: installs in the runtime stage`),
    ];
  },
  'apt-get, when used, installs without recommends and cleans its lists': (parsed) =>
    parsed.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'RUN' && /apt-get install/.test(i.args))
      .filter((i) => !/--no-install-recommends/.test(i.args) || !/rm -rf \/var\/lib\/apt\/lists/.test(i.args))
      .map((i) => `line ${i.line}: apt-get install without --no-install-recommends and list cleanup`),
  'WORKDIR is absolute': (parsed) =>
    parsed.stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'WORKDIR' && !i.args.startsWith('/')).map((i) => `line ${i.line}: WORKDIR ${i.args}`),
  '.dockerignore keeps node_modules, data, .git, .env files, keys and tests out of the build context': (_parsed, ignore) =>
    ['**/node_modules', 'data', '.git', '.env', '.env.*', '*.pem', '*.key', 'test', 'services/*/test', 'packages/*/test', '**/*.test.ts']
      .filter((pattern) => !ignore.includes(pattern))
      .map((pattern) => `.dockerignore lacks ${pattern}`),
};

const dockerfile = readFileSync(path.join(ROOT, 'infra/Dockerfile'), 'utf8');
const dockerignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('infra/Dockerfile', () => {
  const parsed = parseDockerfile(dockerfile);

  it('parses into the stages it documents', () => {
    expect(parsed.stages.map((s) => s.name)).toEqual(['base', 'manifests', 'deps', 'runtime']);
  });

  it.each(Object.keys(RULES))('%s', (rule) => {
    expect(RULES[rule]!(parsed, dockerignore)).toEqual([]);
  });

  it('probes the health path of each service with infra/healthcheck.mjs, which the image copies', () => {
    const final = parsed.stages.at(-1)!.instructions;
    expect(final.some((i) => i.keyword === 'COPY' && i.args.includes('infra/healthcheck.mjs'))).toBe(true);
    expect(dockerignore.some((p) => p === 'infra' || p === 'infra/healthcheck.mjs')).toBe(false);
  });
});

describe('the rules catch what they are for', () => {
  const bad = `
ARG BASE=node:20
FROM \${BASE} AS runtime
ENV GATEWAY_SIGNING_SECRET=abc \\
    PORT=1
ARG API_KEY
ADD https://example.com/x.tgz /x
WORKDIR app
COPY . .
RUN apt-get install -y curl
RUN npm install
USER root
CMD node main.js
`;
  const parsed = parseDockerfile(bad);
  it.each([
    ['every base image is pinned to a full version (x.y.z) or a digest, never latest', 'unpinned base image "node:20"'],
    ['the final stage runs as a named non-root user', 'USER root is root'],
    ['no secret in ENV, ARG or LABEL', 'GATEWAY_SIGNING_SECRET set in the image'],
    ['no secret in ENV, ARG or LABEL', 'API_KEY set in the image'],
    ['the final stage has a HEALTHCHECK in exec form', 'no HEALTHCHECK'],
    ['CMD and ENTRYPOINT in exec form, so SIGTERM reaches the process (a shell form would eat it)', 'CMD not in exec form'],
    ['no ADD (COPY is explicit; ADD fetches URLs and unpacks archives)', 'ADD'],
    ['production dependencies only, from the lockfile', 'install without --frozen-lockfile --prod'],
    ['the final stage copies no whole build context and no build tool', 'COPY . in the runtime stage'],
    ['apt-get, when used, installs without recommends and cleans its lists', 'apt-get install without'],
    ['WORKDIR is absolute', 'WORKDIR app'],
  ])('%s → "%s"', (rule, finding) => {
    expect(RULES[rule]!(parsed, []).join('\n')).toContain(finding);
  });
  it('.dockerignore without node_modules is caught', () => {
    expect(RULES['.dockerignore keeps node_modules, data, .git, .env files, keys and tests out of the build context']!(parsed, ['data'])).toContain('.dockerignore lacks **/node_modules');
  });
});
