/**
 * examples/kubernetes/deployment.yaml: a Deployment that measures itself with Kepler, its
 * settings filled in from the downward API the way the kubelet fills them in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config.js';
import { projectRoot } from '../../../src/paths.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  securityContext?: SecurityContext;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  ports: Array<{ name: string; containerPort: number }>;
  env: EnvVar[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
}
interface Deployment {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        securityContext?: SecurityContext;
        containers: Container[];
        volumes?: Array<{ name: string; emptyDir?: Record<string, unknown> }>;
      };
    };
  };
}

/** What the kubelet would put in the fields the manifest asks for. */
const POD_FIELDS: Record<string, string> = {
  'metadata.name': 'carbonscope-6d5f7c9b8-x2k4p',
  'metadata.namespace': 'shop',
  'metadata.uid': '5f1c0a3e-7b2d-4c8e-9a10-2b3c4d5e6f70',
  'status.hostIP': '10.0.0.2',
};

/** The container's environment as the kubelet builds it: fieldRefs, then $(VAR) of earlier ones. */
function environment(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of c.env) {
    const path = v.valueFrom?.fieldRef?.fieldPath;
    if (path !== undefined) {
      const value = POD_FIELDS[path];
      if (value === undefined) throw new Error(`${v.name}: no downward API field ${path} here`);
      env[v.name] = value;
    } else {
      env[v.name] = (v.value ?? '').replace(
        /\$\(([A-Z_][A-Z0-9_]*)\)/g,
        (whole, name: string) => env[name] ?? whole,
      );
    }
  }
  return env;
}

describe('examples/kubernetes/deployment.yaml', () => {
  const doc = parse(
    readFileSync(join(projectRoot, 'examples', 'kubernetes', 'deployment.yaml'), 'utf8'),
  ) as Deployment;
  const container = doc.spec.template.spec.containers[0] as Container;

  it('is a Deployment whose selector matches its pods', () => {
    expect([doc.apiVersion, doc.kind]).to.deep.equal(['apps/v1', 'Deployment']);
    expect(doc.spec.template.metadata.labels).to.include(doc.spec.selector.matchLabels);
  });

  it('gives carbonscope valid settings: Kepler on its own node, the pod from the downward API', () => {
    const settings = loadConfig(environment(container));
    expect(settings.port).to.equal(container.ports.find((p) => p.name === 'http')?.containerPort);
    expect(settings.energy.source).to.equal('kepler');
    expect(settings.energy.kepler.metricsUrl).to.equal('http://10.0.0.2:28282/metrics');
    expect(settings.energy.pod).to.deep.equal({
      name: POD_FIELDS['metadata.name'],
      namespace: POD_FIELDS['metadata.namespace'],
      uid: POD_FIELDS['metadata.uid'],
      containerName: container.name,
    });
  });

  // What the restricted Pod Security Standard asks, and what compose gives the app: a pod
  // without it is refused in a namespace that enforces it.
  it('runs as the restricted Pod Security Standard asks, read-only but for /tmp', () => {
    const pod = doc.spec.template.spec;
    const sc = { ...pod.securityContext, ...container.securityContext };
    expect(sc.runAsNonRoot).to.equal(true);
    expect(sc.allowPrivilegeEscalation).to.equal(false);
    expect(sc.capabilities?.drop).to.deep.equal(['ALL']);
    expect(sc.capabilities?.add ?? []).to.deep.equal([]);
    expect(sc.seccompProfile?.type).to.equal('RuntimeDefault');
    expect(sc.readOnlyRootFilesystem).to.equal(true);
    const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    const volume = pod.volumes?.find((v) => v.name === tmp?.name);
    expect(volume?.emptyDir, '/tmp on an emptyDir, as compose gives it a tmpfs').to.be.an('object');
    // The kubelet checks runAsNonRoot against the image's USER only when it is a number:
    // "image has non-numeric user (node), cannot verify user is non-root" otherwise.
    const user = /^USER (\S+)$/m.exec(readFileSync(join(projectRoot, 'Dockerfile'), 'utf8'))?.[1];
    if (sc.runAsUser === undefined) {
      expect(user, "the Dockerfile's USER, numeric").to.match(/^[1-9]\d*(:\d+)?$/);
    }
  });

  it("probes the app's health routes", () => {
    expect(container.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'http' });
  });
});
