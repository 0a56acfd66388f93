import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import { close, EnergyTracker } from '../../../src/energy/index.js';
import { OpenRequest } from '../../../src/http/open-request.js';
import { OpenRequests } from '../../../src/http/open-requests.js';
import { ScriptedClock } from '../energy/scripted.js';

function exchange(): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  return { req, res: new ServerResponse(req) };
}

const FACTS = { method: 'GET', scheme: 'http' } as const;

const clock = new ScriptedClock(0);
const tracker = new EnergyTracker({ clock: clock.now, loopIdle: clock.loopIdle });

/** An open request's operation, begun as request tracking begins it. */
const op = (name: string) => tracker.beginAs(OpenRequest, name, 'request');

describe('http: the open requests, found from their response', () => {
  it('takes a request by its response once, and leaves the others', () => {
    const open = new OpenRequests();
    const a = exchange();
    const b = exchange();
    open.add(op('a'), a.req, a.res, FACTS);
    open.add(op('b'), b.req, b.res, FACTS);
    expect(open.size).to.equal(2);
    expect(open.peek(a.res)?.name).to.equal('a');
    expect(open.take(a.res)?.req).to.equal(a.req);
    expect(open.take(a.res)).to.equal(undefined);
    expect(open.peek(a.res)).to.equal(undefined);
    expect(open.size).to.equal(1);
    const left: string[] = [];
    open.forEach((e) => {
      left.push(e.name);
    });
    expect(left).to.deep.equal(['b']);
  });

  it('lets forEach take every entry as it goes (the sweep, stop)', () => {
    const open = new OpenRequests();
    const all = [exchange(), exchange(), exchange()];
    for (const [i, x] of all.entries()) open.add(op(String(i)), x.req, x.res, FACTS);
    const seen: string[] = [];
    open.forEach((e) => {
      seen.push(e.name);
      open.take(e.res);
    });
    expect(seen).to.deep.equal(['2', '1', '0']);
    expect(open.size).to.equal(0);
    for (const x of all) expect(open.take(x.res)).to.equal(undefined);
  });

  it("keeps two lists' entries apart on the same response (two trackers in one process)", () => {
    const first = new OpenRequests();
    const second = new OpenRequests();
    const x = exchange();
    first.add(op('first'), x.req, x.res, FACTS);
    expect(second.take(x.res)).to.equal(undefined);
    second.add(op('second'), x.req, x.res, FACTS);
    expect(first.take(x.res)?.name).to.equal('first');
    expect(second.take(x.res)?.name).to.equal('second');
  });

  it("finds a response's entry after a framework reshaped it (Express's prototypes)", () => {
    const open = new OpenRequests();
    const x = exchange();
    open.add(op('x'), x.req, x.res, FACTS);
    // What Express does to every response once its app handles the request.
    Object.setPrototypeOf(x.res, Object.create(ServerResponse.prototype, { app: { value: {} } }));
    Object.assign(x.res, { locals: {} });
    expect(open.peek(x.res)?.name).to.equal('x');
    expect(open.take(x.res)?.name).to.equal('x');
    expect(open.peek(x.res)).to.equal(undefined);
    expect(open.take(x.res)).to.equal(undefined);
    expect(open.size).to.equal(0);
  });

  // One object a request: the entry is the operation, so the ended operation an access log asks
  // for is found from the response; and it lets go of the request and response once ended,
  // which a tracker that holds ended operations till the sample (`exact`) would keep with it.
  it('is the operation itself, found after its end without its request and response', () => {
    const open = new OpenRequests();
    const x = exchange();
    const entry = op('x');
    open.add(entry, x.req, x.res, FACTS);
    expect(open.endedOf(x.res, () => {})).to.equal(undefined);
    const taken = open.take(x.res);
    expect(taken).to.equal(entry);
    close(entry, '/x', 200, FACTS);
    entry.release();
    expect(open.endedOf(x.res, () => {})).to.equal(entry);
    expect([entry.req, entry.res, entry.http]).to.deep.equal([undefined, undefined, FACTS]);
  });
});
