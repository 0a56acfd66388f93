import { expect } from 'chai';
import {
  answerPrimary,
  clusterExposition,
  type Exposition,
  mergeExpositions,
  parentServes,
  withInstance,
} from '../../../src/otel/cluster-exposition.js';
import { parseSamples } from '../../helpers/metrics.js';

/** One process's exposition as PrometheusText writes it: target_info, then its families. */
function exposition(instance: string, count: number): string {
  return [
    '# HELP target_info Target metadata',
    '# TYPE target_info gauge',
    `target_info{service_instance_id="${instance}",service_name="shop"} 1`,
    '# HELP carbonscope_operation_energy_joules Energy of each operation',
    '# UNIT carbonscope_operation_energy_joules J',
    '# TYPE carbonscope_operation_energy_joules histogram',
    `carbonscope_operation_energy_joules_count{carbonscope_operation="/users/:id"} ${count}`,
    `carbonscope_operation_energy_joules_bucket{carbonscope_operation="/users/:id",le="+Inf"} ${count}`,
    '# HELP up_since Seconds',
    '# TYPE up_since gauge',
    'up_since 3',
    '',
  ].join('\n');
}

const section = (instance: string, count: number): Exposition => ({
  text: exposition(instance, count),
  instance,
});

describe("a cluster's one exposition: every process's, merged by the primary", () => {
  it('puts the instance label first; a series without labels gets braces; one that has it keeps it', () => {
    expect(withInstance('a_total{x="1"} 2', 'w1')).to.equal(
      'a_total{service_instance_id="w1",x="1"} 2',
    );
    expect(withInstance('a_total 2', 'w1')).to.equal('a_total{service_instance_id="w1"} 2');
    expect(withInstance('a_total{} 2', 'w1')).to.equal('a_total{service_instance_id="w1"} 2');
    const info = 'target_info{service_instance_id="w1",service_name="shop"} 1';
    expect(withInstance(info, 'w1')).to.equal(info);
    // A value set in OTEL_RESOURCE_ATTRIBUTES is escaped as the text format says.
    expect(withInstance('a 1', 'pod "7"\\')).to.equal('a{service_instance_id="pod \\"7\\"\\\\"} 1');
  });

  it('writes each family once, its header first, then every process’s samples', () => {
    const text = mergeExpositions([section('p', 0), section('w1', 3), section('w2', 4)]);
    for (const name of ['target_info', 'carbonscope_operation_energy_joules', 'up_since']) {
      expect(text.match(new RegExp(`^# TYPE ${name} `, 'gm')), name).to.have.length(1);
      expect(text.match(new RegExp(`^# HELP ${name} `, 'gm')), name).to.have.length(1);
    }
    expect(text.match(/^# UNIT /gm)).to.have.length(1);
    const counts = parseSamples(text).filter(
      (s) => s.name === 'carbonscope_operation_energy_joules_count',
    );
    expect(counts.map((s) => [s.labels.service_instance_id, s.value])).to.deep.equal([
      ['p', 0],
      ['w1', 3],
      ['w2', 4],
    ]);
    // The families stay in order: a family's samples follow its own header.
    const lines = text.split('\n');
    const header = lines.indexOf('# TYPE up_since gauge');
    expect(lines.slice(header + 1, header + 4)).to.deep.equal([
      'up_since{service_instance_id="p"} 3',
      'up_since{service_instance_id="w1"} 3',
      'up_since{service_instance_id="w2"} 3',
    ]);
    expect(text.endsWith('\n')).to.equal(true);
  });

  // OTEL_RESOURCE_ATTRIBUTES=service.instance.id=<pod name> (as Grafana's and the Operator's
  // setups write it) is inherited by every worker: each family then held the same series once
  // per process, and Prometheus keeps the first of a scrape's duplicates, the primary's, which
  // serves no request. A worker that shares the primary's id is told apart by its pid.
  it('tells apart a worker whose service.instance.id is the primary’s (one OTEL_RESOURCE_ATTRIBUTES for all)', () => {
    const text = mergeExpositions([
      section('pod-7', 0),
      { ...section('pod-7', 3), pid: 41 },
      { ...section('pod-7', 4), pid: 42 },
    ]);
    const samples = parseSamples(text);
    const keys = samples.map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`);
    expect(new Set(keys).size, text).to.equal(keys.length);
    const ids = (name: string) =>
      samples.filter((s) => s.name === name).map((s) => s.labels.service_instance_id);
    expect(ids('target_info')).to.deep.equal(['pod-7', 'pod-7-41', 'pod-7-42']);
    expect(ids('carbonscope_operation_energy_joules_count')).to.deep.equal([
      'pod-7',
      'pod-7-41',
      'pod-7-42',
    ]);
    // Ids of their own are left as they are.
    const apart = mergeExpositions([section('p', 0), { ...section('w1', 3), pid: 41 }]);
    expect(apart).to.include('target_info{service_instance_id="w1",');
  });

  it("a shared service.instance.id with `$'` or `$&` in it is relabelled as it is, not as a replace pattern", () => {
    // String.replace reads `$'` in its replacement as the rest of the line: the label value
    // closed early and the line no longer parsed, which fails the whole scrape.
    for (const id of ["pod$'7", 'pod$&7', 'pod$`7', 'pod$$7']) {
      const text = mergeExpositions([section(id, 0), { ...section(id, 3), pid: 41 }]);
      const ids = parseSamples(text)
        .filter((s) => s.name === 'target_info')
        .map((s) => s.labels.service_instance_id);
      expect(ids, text).to.deep.equal([id, `${id}-41`]);
    }
  });

  it('takes a family only a worker has (a metric it recorded first) with that worker’s header', () => {
    const worker = `${exposition('w1', 1)}# HELP only_here Worker's\n# TYPE only_here counter\nonly_here_total 5\n`;
    const text = mergeExpositions([section('p', 0), { text: worker, instance: 'w1' }]);
    expect(text).to.include(
      '# TYPE only_here counter\nonly_here_total{service_instance_id="w1"} 5\n',
    );
  });

  it('serves a process that never had a worker byte for byte as before; once it has, all are labelled', async () => {
    const body = Buffer.from(exposition('p', 1));
    let workers: Exposition[] = [];
    const serve = clusterExposition(
      async () => ({ body, text: body.toString('utf8'), instance: 'p' }),
      async () => workers,
    );
    expect(await serve()).to.equal(body);
    workers = [section('w1', 2)];
    const merged = (await serve()).toString('utf8');
    expect(merged).to.include('carbonscope_operation_energy_joules_count{service_instance_id="p",');
    expect(merged).to.include(
      'carbonscope_operation_energy_joules_count{service_instance_id="w1",',
    );
    // Its workers all gone (a rolling restart): its own series keep their label.
    workers = [];
    expect((await serve()).toString('utf8')).to.include('up_since{service_instance_id="p"} 3');
  });
});

describe("a cluster worker told that its primary serves it, but not the primary's folder", () => {
  it('says so once and serves nothing, rather than listen where the primary does not look', () => {
    const warnings: string[] = [];
    const none = () => undefined;
    const warn = (first: unknown, second?: string) => {
      warnings.push(typeof first === 'string' ? first : String(second));
    };
    const logger = { debug: none, info: none, error: none, warn };
    const stop = answerPrimary(
      { CARBONSCOPE_CLUSTER_PRIMARY: '1' },
      () => Promise.reject(),
      logger,
    );
    stop();
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('CARBONSCOPE_CLUSTER_FOLDER is not set');
  });
});

describe('a Node child forked outside a cluster, told that a process above it serves its figures', () => {
  const told = (pid: number, port = '9464') => ({
    CARBONSCOPE_CLUSTER_PRIMARY: String(pid),
    CARBONSCOPE_CLUSTER_ENDPOINT: 'localhost:9464',
    OTEL_EXPORTER_PROMETHEUS_PORT: port,
  });

  it("answers its parent's endpoint; not another process's, nor where given a port of its own", () => {
    expect(parentServes(told(process.ppid))).to.equal(true);
    expect(parentServes(told(process.pid))).to.equal(false);
    expect(parentServes(told(process.ppid, '9465'))).to.equal(false);
    // The port as read, as register listens on it: the text alone took 0x24f8 for another port.
    for (const port of ['0x24f8', '+9464', '9464.0', ' 9464 ']) {
      expect(parentServes(told(process.ppid, port)), port).to.equal(true);
    }
    expect(parentServes({ CARBONSCOPE_CLUSTER_PRIMARY: String(process.ppid) })).to.equal(false);
  });

  // It said "this cluster worker cannot give its primary its figures", of a process in no cluster.
  it("told no folder, says so as a child process of its parent's, not as a cluster worker", () => {
    const warnings: string[] = [];
    const none = () => undefined;
    const warn = (first: unknown, second?: string) => {
      warnings.push(typeof first === 'string' ? first : String(second));
    };
    answerPrimary(told(process.ppid), () => Promise.reject(), {
      debug: none,
      info: none,
      error: none,
      warn,
    })();
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('this child process cannot give its parent its figures');
    expect(warnings[0]).to.not.match(/cluster worker|primary/);
  });

  // On Windows the sockets are named pipes, which the parent cannot list (no folder): a child
  // that answered there was read by nobody, where it had said that the port was taken.
  it('keeps its own endpoint on Windows', () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform');
    Object.defineProperty(process, 'platform', { value: 'win32' });
    try {
      expect(parentServes(told(process.ppid))).to.equal(false);
    } finally {
      if (platform) Object.defineProperty(process, 'platform', platform);
    }
  });
});
