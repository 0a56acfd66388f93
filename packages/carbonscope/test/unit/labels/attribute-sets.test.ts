import { expect } from 'chai';
import { AttributeSets, MAX_ATTRIBUTE_KEYS } from '../../../src/labels/index.js';

const sets = (capacity = 3, told: string[] = []) =>
  new AttributeSets({ capacity, maxValueLength: 8, onRefused: (reason) => told.push(reason) });

describe('labels: attribute sets (setAttributes bound)', () => {
  it('hands back one frozen object per distinct set, the same for every equal one', () => {
    const s = sets();
    const first = s.of({ 'app.tenant': 'acme', plan: 'pro' }, 'f()');
    expect(first).to.deep.equal({ 'app.tenant': 'acme', plan: 'pro' });
    expect(Object.isFrozen(first)).to.equal(true);
    expect(s.of({ 'app.tenant': 'acme', plan: 'pro' }, 'f()')).to.equal(first);
    expect(s.of({ 'app.tenant': 'zeta', plan: 'pro' }, 'f()')).not.to.equal(first);
    expect(s.size).to.equal(2);
  });

  it('hands back the same set for the same attributes given in another order', () => {
    // Two objects for one set took two of the process's slots for it, one per key order.
    const s = sets();
    const first = s.of({ 'app.tenant': 'acme', plan: 'pro' }, 'f()');
    expect(s.of({ plan: 'pro', 'app.tenant': 'acme' }, 'f()')).to.equal(first);
    expect(s.size).to.equal(1);
    // Found again without allocating: the second order now has its own path to the set.
    expect(s.of({ plan: 'pro', 'app.tenant': 'acme' }, 'f()')).to.equal(first);
    const over = sets(1);
    over.of({ a: '1' }, 'f()');
    expect(over.of({ a: '2', b: '3' }, 'f()')).to.equal(over.of({ b: '4', a: '5' }, 'f()'));
  });

  it('refuses a key whose Prometheus label name another key already has, naming both', () => {
    const s = sets();
    s.of({ 'app.tenant': 'acme' }, 'f()');
    // app_tenant="acme" twice: the same series from two sets, or one label from two keys.
    expect(() => s.of({ app_tenant: 'acme' }, 'f()')).to.throw(
      TypeError,
      'f(): attribute app_tenant is the Prometheus label app_tenant, which app.tenant has',
    );
    expect(() => s.of({ 'app..tenant': 'x' }, 'f()')).to.throw(TypeError, 'app.tenant');
    expect(() => s.of({ 'a.b': 'x', a_b: 'y' }, 'f()')).to.throw(TypeError, 'which a.b has');
    expect(s.of({ 'app.tenant': 'zeta' }, 'f()')).to.deep.equal({ 'app.tenant': 'zeta' });
  });

  it('admits `capacity` sets, then each new one is its keys valued `other`, told once', () => {
    const told: string[] = [];
    const s = sets(2, told);
    s.of({ tenant: 'a' }, 'f()');
    s.of({ tenant: 'b' }, 'f()');
    const over = s.of({ tenant: 'c' }, 'f()');
    expect(over).to.deep.equal({ tenant: 'other' });
    expect(s.of({ tenant: 'd' }, 'f()')).to.equal(over);
    expect(s.of({ tenant: 'a' }, 'f()')).to.deep.equal({ tenant: 'a' });
    expect(s.of({ tenant: 'e', plan: 'x' }, 'f()')).to.deep.equal({
      tenant: 'other',
      plan: 'other',
    });
    expect(told).to.deep.equal(['capacity']);
    expect(s.size).to.equal(2);
  });

  it('counts a value over the length limit as `other`, told once', () => {
    const told: string[] = [];
    const s = sets(3, told);
    expect(s.of({ tenant: 'x'.repeat(9) }, 'f()')).to.deep.equal({ tenant: 'other' });
    expect(s.of({ tenant: 'y'.repeat(1e6) }, 'f()')).to.deep.equal({ tenant: 'other' });
    expect(told).to.deep.equal(['length']);
    expect(s.size).to.equal(1);
  });

  it('keeps two sets apart whatever their values hold (no separator in them can join them)', () => {
    const s = sets(10);
    expect(s.of({ a: '1', b: '2:x' }, 'f()')).to.deep.equal({ a: '1', b: '2:x' });
    expect(s.of({ a: '1:2', b: 'x' }, 'f()')).to.deep.equal({ a: '1:2', b: 'x' });
    const one = s.of({ a: '1:x', b: 'y' }, 'f()');
    const two = s.of({ a: '1', b: 'x1:y' }, 'f()');
    expect(one).to.deep.equal({ a: '1:x', b: 'y' });
    expect(two).to.deep.equal({ a: '1', b: 'x1:y' });
  });

  it('leaves out an empty value: an empty label is no label to Prometheus', () => {
    const s = sets();
    expect(s.of({ tenant: '' }, 'f()')).to.equal(undefined);
    expect(s.of({}, 'f()')).to.equal(undefined);
    expect(s.of({ tenant: '', plan: 'pro' }, 'f()')).to.deep.equal({ plan: 'pro' });
  });

  it('refuses, naming the key and never the value, what code got wrong', () => {
    const s = sets();
    const refused = (attributes: unknown) => {
      try {
        s.of(attributes, 'setAttributes()');
      } catch (err) {
        expect(err).to.be.instanceOf(TypeError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ authorization: 'Bearer s3cr3t' })).to.match(/authorization names a secret/);
    expect(refused({ 'app.api_key': 's3cr3t' })).to.match(/app\.api_key names a secret/);
    expect(refused({ Cookie: 's3cr3t' })).to.match(/Cookie names a secret/);
    expect(refused({ session_token: 's3cr3t' })).not.to.include('s3cr3t');
    // The names the library masks elsewhere (isSecretName: URL parameters, settings) too.
    for (const key of ['app.session', 'user.jwt', 'bearer', 'req.signature', 'db.passphrase']) {
      expect(refused({ [key]: 's3cr3t' }), key).to.include(`${key} names a secret`);
    }
    expect(refused({ 'carbonscope.operation': 'x' })).to.match(/carbonscope's or Prometheus's/);
    expect(refused({ le: '1' })).to.match(/carbonscope's or Prometheus's/);
    expect(refused({ 'a b': 'x' })).to.match(/"a b" is no attribute name/);
    expect(refused({ 'a\nb': 'x' })).to.match(/"a\\nb" is no attribute name/);
    expect(refused({ ok: 'x', 'a\nb': 'x' })).to.match(/is no attribute name/);
    expect(refused({ tenant: 7 })).to.equal(
      'setAttributes(): attribute tenant must be a string (got number)',
    );
    expect(refused(null)).to.equal('setAttributes(): the attributes must be an object (got null)');
    const many = Object.fromEntries(
      Array.from({ length: MAX_ATTRIBUTE_KEYS + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    expect(refused(many)).to.match(/at most 4 attributes/);
    expect(s.size).to.equal(0);
  });

  it('bounds the key lists too: past 16, a set built of new keys gets no labels', () => {
    const told: string[] = [];
    const s = sets(100, told);
    for (let i = 0; i < 16; i++) expect(s.of({ [`k${i}`]: 'v' }, 'f()')).to.not.equal(undefined);
    expect(s.of({ k16: 'v' }, 'f()')).to.equal(undefined);
    expect(s.of({ k0: 'w' }, 'f()')).to.deep.equal({ k0: 'w' });
    expect(told).to.deep.equal(['capacity']);
  });
});
