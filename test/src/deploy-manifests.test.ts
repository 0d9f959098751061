// deploy/*.yaml checked against the Kubernetes schemas (kubernetes-models) and against the code: selectors
// match labels, flags are the CLIs' real ones, ports agree with the flags, probes hit real routes, the
// autoscaler's metric is one the proxy exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { REPO_ROOT } from './processes';

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, any> };

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const MANIFESTS = ['deploy/shard-server.yaml', 'deploy/proxy.yaml'];
const docs: Doc[] = MANIFESTS.flatMap((file) => parseAllDocuments(read(file)).map((d) => d.toJS() as Doc));
const byKind = (kind: string): Doc[] => docs.filter((d) => d.kind === kind);

/** The long flags a commander CLI declares. */
function cliFlags(path: string): Set<string> {
  return new Set([...read(path).matchAll(/\.(?:required)?[oO]ption\(\s*'(--[a-z-]+)/g)].map((m) => m[1]!));
}

const WORKLOADS: Record<string, { cli: string; routes: string; portFlags: Record<string, (v: string) => number> }> = {
  'ragwire-shard': {
    cli: 'servers/shard-server/src/cli.ts',
    routes: 'servers/shard-server/src/admin.ts',
    portFlags: { protocol: (v) => Number(new URL(v).port), admin: (v) => Number(v.split(':').at(-1)) },
  },
  'ragwire-proxy': { cli: 'servers/proxy/src/cli.ts', routes: 'servers/proxy/src/server.ts', portFlags: { http: Number } },
};
const PORT_FLAG: Record<string, string> = { protocol: '--listen', admin: '--admin', http: '--port' };

describe('deploy/ manifests', () => {
  it('validate against the Kubernetes schemas', () => {
    const classes: Record<string, new (d: any) => { validate(): void }> = { Service, StatefulSet, Deployment, HorizontalPodAutoscaler };
    expect(docs.length).toBeGreaterThanOrEqual(5);
    for (const d of docs) {
      const cls = classes[d.kind];
      expect(cls, `a schema for ${d.kind}`).toBeDefined();
      expect(() => new cls!(d).validate(), `${d.kind} ${d.metadata.name}`).not.toThrow();
    }
  });

  it('selectors match the pod labels, and every Service selects a workload', () => {
    const workloads = [...byKind('StatefulSet'), ...byKind('Deployment')];
    for (const w of workloads) {
      const labels = w.spec.template.metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(w.spec.selector.matchLabels as Record<string, string>)) expect(labels[k]).toBe(v);
    }
    for (const s of byKind('Service')) {
      const selected = workloads.filter((w) =>
        Object.entries(s.spec.selector as Record<string, string>).every(([k, v]) => w.spec.template.metadata.labels[k] === v),
      );
      expect(selected.length, `Service ${s.metadata.name}`).toBe(1);
      const ports = new Set(selected[0]!.spec.template.spec.containers.flatMap((c: any) => c.ports.map((p: any) => p.name)));
      for (const p of s.spec.ports) expect(ports.has(p.targetPort)).toBe(true);
    }
    const sts = byKind('StatefulSet')[0]!;
    expect(byKind('Service').map((s) => s.metadata.name)).toContain(sts.spec.serviceName);
    expect(sts.spec.volumeClaimTemplates.map((v: any) => v.metadata.name)).toEqual(sts.spec.template.spec.containers[0].volumeMounts.map((m: any) => m.name));
  });

  it("uses the CLIs' real flags, ports that agree with them, and probes on real routes", () => {
    for (const w of [...byKind('StatefulSet'), ...byKind('Deployment')]) {
      const spec = WORKLOADS[w.metadata.name];
      expect(spec, w.metadata.name).toBeDefined();
      const flags = cliFlags(spec!.cli);
      const routes = read(spec!.routes);
      for (const c of w.spec.template.spec.containers) {
        const args = new Map<string, string>();
        for (const a of c.args as string[]) {
          const [flag, value] = a.split(/=(.*)/s);
          expect(flags.has(flag!), `${flag} is a flag of ${spec!.cli}`).toBe(true);
          if (!args.has(flag!)) args.set(flag!, value!);
        }
        for (const p of c.ports) {
          const flag = PORT_FLAG[p.name]!;
          expect(spec!.portFlags[p.name]!(args.get(flag)!), `${p.name} port and ${flag}`).toBe(p.containerPort);
        }
        const portNames = new Set(c.ports.map((p: any) => p.name));
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          expect(portNames.has(probe.httpGet.port)).toBe(true);
          expect(routes.includes(`'${probe.httpGet.path}'`), `${probe.httpGet.path} is a route of ${spec!.routes}`).toBe(true);
        }
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      }
    }
    const shard = byKind('StatefulSet')[0]!.spec.template.spec.containers[0];
    expect(shard.args.some((a: string) => a.startsWith('--nats='))).toBe(true);
    expect(shard.env.map((e: any) => e.name)).toContain('RAGWIRE_SHARD_TOKENS');
    expect(read('servers/shard-server/src/cli.ts')).toContain('RAGWIRE_SHARD_TOKENS');
  });

  it('scales the proxy on a metric the proxy exports', () => {
    const hpa = byKind('HorizontalPodAutoscaler')[0]!;
    expect(byKind('Deployment').map((d) => d.metadata.name)).toContain(hpa.spec.scaleTargetRef.name);
    const metric = hpa.spec.metrics[0].external.metric.name as string;
    expect(read('servers/proxy/src/metrics.ts')).toContain(`name: '${metric}'`);
  });
});
