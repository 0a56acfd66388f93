import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ENERGY_SOURCES } from 'carbonscope';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config.js';
import { projectRoot } from '../../../src/paths.js';
import { RUNNING_APPS_MAX_PUSH_SECONDS } from '../../../tools/dashboards/names.js';
import { node24 } from '../../helpers/packed-library.js';

type Yaml = Record<string, unknown>;

function readYaml(...path: string[]): Yaml {
  return parse(readFileSync(join(projectRoot, ...path), 'utf8')) as Yaml;
}

const root = (...path: string[]) => join(projectRoot, ...path);
const collector = readYaml('otel-collector', 'config.yaml') as {
  receivers: Yaml;
  processors: Yaml;
  exporters: Yaml;
  extensions?: Yaml;
  service: { extensions?: string[]; pipelines: Record<string, Record<string, string[]>> };
};
interface ComposeService {
  image?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  deploy?: { resources?: { limits?: { cpus?: string; memory?: string; pids?: number } } };
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  profiles?: string[];
}
const composeText = readFileSync(root('docker-compose.yml'), 'utf8');
const compose = parse(composeText) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

function hostPort(endpoint: unknown): number {
  const m = /:(\d+)$/.exec(String(endpoint));
  if (!m) throw new Error(`no port in ${String(endpoint)}`);
  return Number(m[1]);
}

function publishedPorts(service: ComposeService): number[] {
  return (service.ports ?? []).map((p) => {
    const [address, host, container] = p.split(':');
    expect(address, `${p} is published on loopback only`).to.equal('127.0.0.1');
    expect(host, `${p} publishes the same port`).to.equal(container);
    return Number(container);
  });
}

describe('stack: Prometheus config and rules (promtool)', () => {
  it('promtool check config accepts prometheus.yml and its rule file', () => {
    const out = execFileSync(
      'promtool',
      ['check', 'config', root('prometheus', 'prometheus.yml')],
      {
        encoding: 'utf8',
      },
    );
    expect(out).to.match(/SUCCESS: .*prometheus\.yml is valid/);
    expect(out).to.match(/SUCCESS: \d+ rules found/);
  });

  it('promtool check rules accepts rules.yml', () => {
    const out = execFileSync('promtool', ['check', 'rules', root('prometheus', 'rules.yml')], {
      encoding: 'utf8',
    });
    expect(out).to.match(/SUCCESS: 12 rules found/);
  });

  // An alert's description is what the person paged reads: a section it sends them to must be
  // one they can find.
  it('sends the reader of an alert to README sections that exist, by their title', () => {
    const text = readFileSync(root('prometheus', 'rules.yml'), 'utf8');
    const headings = new Set(
      [...readFileSync(root('README.md'), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]),
    );
    const cited = [...text.replace(/\s+/g, ' ').matchAll(/README's ([^.,)]*?) section/g)];
    expect(
      cited.map((m) => m[1]),
      'cite a section as "Title" in the README',
    ).to.deep.equal([]);
    for (const m of text.replace(/\s+/g, ' ').matchAll(/"([^"]+)" in the README/g)) {
      expect(headings, `README section "${m[1]}"`).to.include(m[1]);
    }
  });

  // EnergyPartiallyUnread said "its meter failed or hangs", and a GPU whose nvidia-smi prints
  // [N/A] for power.draw at every line (no power sensor it reports) keeps it firing for good:
  // the person paged must tell the three apart by the app's warning, as the reader prints it.
  it("tells EnergyPartiallyUnread's causes apart by the warning the app prints for each", () => {
    const doc = readYaml('prometheus', 'rules.yml') as {
      groups: Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }>;
    };
    const rule = doc.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === 'EnergyPartiallyUnread');
    const description = (rule?.annotations?.description ?? '').replace(/\s+/g, ' ');
    const sources = ['nvidia-smi.ts', 'rapl.ts'].map((f) =>
      readFileSync(root('packages', 'carbonscope', 'src', 'energy', 'sources', f), 'utf8'),
    );
    const quoted = [...description.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
    for (const warning of [
      'reports power.draw as N/A',
      'child ended',
      'no power.draw line',
      'cannot be read',
    ]) {
      expect(quoted, `the description quotes "${warning}"`).to.include(warning);
      expect(
        sources.some((text) => text.includes(warning)),
        `a reader prints "${warning}"`,
      ).to.equal(true);
    }
    expect(description).to.match(/\[N\/A\]/);
  });

  it('scrapes the collector at its compose name and exporter port, never honouring pushed labels', () => {
    const prom = readYaml('prometheus', 'prometheus.yml') as {
      scrape_configs: Array<{
        job_name: string;
        honor_labels?: boolean;
        static_configs: Array<{ targets: string[] }>;
        metric_relabel_configs?: Array<{ source_labels?: string[]; target_label?: string }>;
      }>;
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'otel-collector');
    expect(job?.honor_labels, "job/instance are Prometheus's, not a pusher's").to.equal(false);
    expect(job?.metric_relabel_configs?.map((r) => r.target_label)).to.include.members([
      'service_name',
      'service_instance_id',
    ]);
    const target = job?.static_configs[0]?.targets[0] ?? '';
    const [host, port] = target.split(':');
    expect(services).to.have.property(String(host));
    expect(Number(port)).to.equal(hostPort((collector.exporters.prometheus as Yaml).endpoint));
    expect(prom.scrape_configs.map((j) => j.job_name)).to.include('prometheus');
  });
});

describe("stack: Grafana's datasource", () => {
  // $__rate_interval is at least 4 scrape intervals as the datasource states it: a shorter
  // one than Prometheus's leaves rate() windows with one sample, and gaps in every panel.
  it("states Prometheus's scrape interval, which $__rate_interval is made of", () => {
    const prom = readYaml('prometheus', 'prometheus.yml') as {
      global: { scrape_interval: string };
    };
    const ds = readYaml('grafana', 'provisioning', 'datasources', 'prometheus.yml') as {
      datasources: Array<{ jsonData?: { timeInterval?: string } }>;
    };
    expect(ds.datasources[0]?.jsonData?.timeInterval).to.equal(prom.global.scrape_interval);
  });
});

describe('stack: OTel Collector config', () => {
  it('defines every receiver, processor and exporter its pipelines use', () => {
    const pipelines = Object.entries(collector.service.pipelines);
    expect(pipelines.map(([name]) => name)).to.have.members(['metrics', 'traces']);
    for (const [name, p] of pipelines) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        expect(p[kind], `${name}.${kind}`).to.be.an('array').that.is.not.empty;
        for (const id of p[kind] ?? []) {
          expect(collector[kind], `${name} uses ${kind}.${id}`).to.have.property(id);
        }
      }
      expect(p.processors?.[0], `${name}: memory_limiter first`).to.equal('memory_limiter');
      expect(p.processors, `${name}: batch`).to.include('batch');
    }
    for (const id of collector.service.extensions ?? []) {
      expect(collector.extensions).to.have.property(id);
    }
    expect(collector.service.pipelines.metrics?.exporters).to.deep.equal(['prometheus']);
    expect(collector.service.pipelines.traces?.exporters).to.deep.equal(['debug']);
  });

  it('listens on the ports of the README, which compose publishes', () => {
    const otlp = (collector.receivers.otlp as { protocols: Record<string, { endpoint: string }> })
      .protocols;
    const ports = [
      hostPort(otlp.grpc?.endpoint),
      hostPort(otlp.http?.endpoint),
      hostPort((collector.exporters.prometheus as Yaml).endpoint),
    ];
    expect(ports).to.deep.equal([4317, 4318, 8889]);
    expect(publishedPorts(services['otel-collector'] as ComposeService)).to.have.members(ports);
  });
});

describe('stack: docker compose', () => {
  it('has the five services and the traffic generator under a profile', () => {
    expect(Object.keys(services)).to.have.members([
      'app',
      'mock-llm',
      'otel-collector',
      'prometheus',
      'grafana',
      'traffic',
    ]);
    expect(services.traffic?.profiles).to.deep.equal(['traffic']);
    for (const name of ['app', 'mock-llm', 'traffic']) {
      expect(services[name]?.image, name).to.equal('carbonscope:local');
      expect(services[name]?.build, name).to.equal('.');
    }
    expect(services['mock-llm']?.command).to.deep.equal(['node', 'dist/src/llm/mock-server.js']);
    expect(services.traffic?.command?.slice(0, 2)).to.deep.equal(['node', 'dist/tools/traffic.js']);
  });

  // "Apps running now" (the panels' RUNNING_APPS, the alerts' recording rule) holds for pushes
  // up to 100 s apart, given the Collector's 5 s batch and Prometheus's 15 s scrape.
  it('pushes the app metrics as often as the running-apps definition needs', () => {
    const interval = Number(services.app?.environment?.OTEL_METRIC_EXPORT_INTERVAL);
    expect(interval).to.be.within(1, RUNNING_APPS_MAX_PUSH_SECONDS * 1000);
    expect((collector.processors.batch as { timeout?: string }).timeout).to.equal('5s');
    const prometheus = readYaml('prometheus', 'prometheus.yml') as {
      global: { scrape_interval: string };
    };
    expect(prometheus.global.scrape_interval).to.equal('15s');
  });

  it('pins every outside image to a version', () => {
    const images = ['otel-collector', 'prometheus', 'grafana'].map((s) => services[s]?.image);
    expect(images[0]).to.match(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
    expect(images[1]).to.match(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(images[2]).to.match(/^grafana\/grafana-oss:\d+\.\d+\.\d+$/);
  });

  it('runs the collector-contrib image of the release otel-collector/go.mod builds', () => {
    const goMod = readFileSync(root('otel-collector', 'go.mod'), 'utf8');
    const release = /^\s*go\.opentelemetry\.io\/collector\/otelcol v(\S+)$/m.exec(goMod)?.[1];
    expect(release, 'otelcol in go.mod').to.match(/^\d+\.\d+\.\d+$/);
    expect(services['otel-collector']?.image).to.equal(
      `otel/opentelemetry-collector-contrib:${release}`,
    );
    // Every Collector module at that one release; the stable core modules carry the v1 number
    // released with it, one for all of them.
    const modules = [
      ...goMod.matchAll(
        /^\s*(\S*(?:opentelemetry-collector-contrib|opentelemetry\.io\/collector)\/\S+) v(\S+)/gm,
      ),
    ];
    const versions = new Set(modules.map(([, , version]) => version));
    expect(modules.length).to.be.greaterThan(10);
    expect([...versions].filter((v) => v !== release)).to.have.length(1);
    expect([...versions].filter((v) => v !== release)[0]).to.match(/^1\.\d+\.\d+$/);
  });

  it('publishes the ports of the README and the app sends OTLP to the collector', () => {
    expect(publishedPorts(services.app as ComposeService)).to.deep.equal([8001]);
    expect(publishedPorts(services['mock-llm'] as ComposeService)).to.deep.equal([8002]);
    expect(publishedPorts(services.prometheus as ComposeService)).to.deep.equal([9090]);
    expect(publishedPorts(services.grafana as ComposeService)).to.deep.equal([3000]);
    const env = services.app?.environment ?? {};
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal('http://otel-collector:4318');
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).to.equal('http/protobuf');
    expect(env.LLM_BASE_URL).to.match(/^\$\{LLM_BASE_URL:-http:\/\/mock-llm:8002\/v1\}$/);
    expect(services['mock-llm']?.environment?.MOCK_LLM_PORT).to.equal('8002');
  });

  it('runs every service read-only, without capabilities or new privileges, within limits', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.read_only, `${name}: read-only root filesystem`).to.equal(true);
      expect(service.cap_drop, `${name}: capabilities dropped`).to.deep.equal(['ALL']);
      expect(service.security_opt, name).to.include('no-new-privileges:true');
      const limits = service.deploy?.resources?.limits;
      expect(limits?.memory, `${name}: memory limit`).to.match(/^\d+[MG]$/);
      expect(Number(limits?.cpus), `${name}: CPU limit`).to.be.above(0);
      expect(limits?.pids, `${name}: process limit`).to.be.above(0);
    }
  });

  it('gives the app settings its own config accepts (compose defaults applied)', () => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(services.app?.environment ?? {})) {
      env[name] = value.replace(/^\$\{\w+:-(.*)\}$/, '$1');
    }
    const config = loadConfig(env);
    expect(config.port).to.equal(8001);
    expect(config.otel.otlpMetricsEnabled).to.equal(true);
    expect(config.llm.baseUrl).to.equal('http://mock-llm:8002/v1');
  });

  it('mounts each config where its image reads it, and keeps data in named volumes', () => {
    const mounts = (s: string) => services[s]?.volumes ?? [];
    expect(mounts('otel-collector')).to.include(
      './otel-collector/config.yaml:/etc/otelcol-contrib/config.yaml:ro',
    );
    expect(services['otel-collector']?.command).to.deep.equal([
      '--config=/etc/otelcol-contrib/config.yaml',
    ]);
    expect(mounts('prometheus')).to.include.members([
      './prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
      './prometheus/rules.yml:/etc/prometheus/rules.yml:ro',
      'prometheus-data:/prometheus',
    ]);
    expect(mounts('grafana')).to.include.members([
      './grafana/provisioning:/etc/grafana/provisioning:ro',
      './grafana/dashboards:/etc/grafana/dashboards:ro',
      'grafana-data:/var/lib/grafana',
    ]);
    expect(Object.keys(compose.volumes)).to.have.members(['prometheus-data', 'grafana-data']);
    const provider = readYaml('grafana', 'provisioning', 'dashboards', 'carbonscope.yml') as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(provider.providers[0]?.options.path).to.equal('/etc/grafana/dashboards');
    const home = services.grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(home.startsWith('/etc/grafana/dashboards/')).to.equal(true);
    // The README's home page, the Carbon dashboard: a file the mount holds.
    expect(existsSync(root('grafana', 'dashboards', basename(home))), home).to.equal(true);
    expect(basename(home)).to.equal('carbon.json');
  });

  it('waits on health: healthchecks exist and every depends_on condition can be met', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services, `${name} depends on ${dep}`).to.have.property(dep);
        expect(['service_started', 'service_healthy']).to.include(condition);
        if (condition === 'service_healthy') {
          expect(services[dep]?.healthcheck?.test, `${dep} needs a healthcheck`).to.be.an('array');
        }
      }
    }
    for (const name of ['app', 'mock-llm', 'prometheus', 'grafana']) {
      expect(services[name]?.healthcheck?.test, name).to.be.an('array');
    }
    expect(services.app?.healthcheck?.test?.join(' ')).to.include('127.0.0.1:8001/healthz');
    expect(services['mock-llm']?.healthcheck?.test?.join(' ')).to.include('127.0.0.1:8002/healthz');
  });

  it('takes the Grafana login from .env, and .env.example documents every variable', () => {
    const grafanaEnv = services.grafana?.environment ?? {};
    expect(grafanaEnv.GF_SECURITY_ADMIN_USER).to.match(/^\$\{GRAFANA_ADMIN_USER:\?/);
    expect(grafanaEnv.GF_SECURITY_ADMIN_PASSWORD).to.match(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    const used = new Set([...composeText.matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
    const example = readFileSync(root('.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^(\w+)=/gm)].map((m) => m[1]));
    for (const name of used) expect(documented, `.env.example documents ${name}`).to.include(name);
    // `:?` refuses only an empty value: a password filled in by the example would start
    // Grafana with a login everyone who read the repository knows.
    expect(/^GRAFANA_ADMIN_PASSWORD=(.*)$/m.exec(example)?.[1]).to.equal('');
    // Its comment is the list a user picks from: it named neither kepler nor scaphandre.
    const sourceComment = /^# Power source: (.*)$/m.exec(example)?.[1] ?? '';
    const named = sourceComment.replace(/\.$/, '').split(/, | or /);
    expect(named, '.env.example lists ENERGY_SOURCE choices').to.have.members([...ENERGY_SOURCES]);
    for (const service of Object.values(services)) {
      expect(service, 'no env_file: each service gets only its own variables').not.to.have.property(
        'env_file',
      );
    }
  });
});

describe('stack: Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(root('Dockerfile'), 'utf8');
  const ignored = readFileSync(root('.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('builds in one stage and runs as non-root in another with a /healthz healthcheck', () => {
    expect(dockerfile.match(/^FROM /gm)).to.have.length(2);
    expect(dockerfile).to.match(/COPY package\.json package-lock\.json \.npmrc/);
    expect(dockerfile).to.match(/RUN npm ci /);
    expect(dockerfile).to.match(/npm run build && npm prune --omit=dev/);
    expect(dockerfile).to.match(/^USER 1000:1000$/m);
    expect(dockerfile).to.match(/^HEALTHCHECK .*\/healthz/ms);
    expect(dockerfile).to.match(/COPY --from=build \/app\/src \.\/src/);
    expect(dockerfile).to.match(/COPY --from=build \/app\/dist\/src \.\/dist\/src/);
  });

  // The image cannot be built here (no Docker); what it runs is the built service on its Node
  // line, which node24-service.test.ts runs on the Node 24 binary the test setup installs.
  it('bases the image on the Node line the service is tested on', async () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)\.\d+-bookworm-slim$/m.exec(dockerfile);
    expect(image, 'ARG NODE_IMAGE=node:<major>.<minor>-bookworm-slim').not.to.equal(null);
    const tested = execFileSync(await node24(), ['--version'], { encoding: 'utf8' });
    expect(`v${image?.[1]}.`).to.equal(tested.trim().replace(/^(v\d+\.).*/, '$1'));
  });

  it('keeps .npmrc and the sources in the build context and secrets out', () => {
    for (const needed of ['.npmrc', 'src', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      expect(ignored, needed).not.to.include(needed);
    }
    expect(ignored).to.include.members(['.env', 'node_modules', 'dist']);
    expect(readFileSync(root('.npmrc'), 'utf8')).to.include('onnxruntime-node-install=skip');
  });

  // onnxruntime-node's postinstall reads npm_config_onnxruntime_node_install; without "skip"
  // it fetches the CUDA provider libraries from NuGet (linux/x64) during npm ci. npm passes an
  // .npmrc key it does not know on to scripts today, with a warning that a later major will not.
  it('npm hands the .npmrc onnxruntime skip to install scripts, as the image build runs them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-npmrc-'));
    try {
      copyFileSync(root('.npmrc'), join(dir, '.npmrc'));
      const script = 'node -p process.env.npm_config_onnxruntime_node_install';
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { flag: script } }));
      const out = execFileSync('npm', ['run', '--silent', 'flag'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      expect(out.trim()).to.equal('skip');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
