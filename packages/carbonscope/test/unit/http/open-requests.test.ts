import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import type { ActiveOperation } from '../../../src/energy/index.js';
import { OpenRequests } from '../../../src/http/open-requests.js';

function exchange(): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  return { req, res: new ServerResponse(req) };
}

const FACTS = { method: 'GET', scheme: 'http' } as const;

const op = (name: string) => ({ name }) as unknown as ActiveOperation;

describe('http: the open requests, found from their response', () => {
  it('takes a request by its response once, and leaves the others', () => {
    const open = new OpenRequests();
    const a = exchange();
    const b = exchange();
    open.add(op('a'), a.req, a.res, FACTS);
    open.add(op('b'), b.req, b.res, FACTS);
    expect(open.size).to.equal(2);
    expect(open.peek(a.res)?.op).to.deep.equal(op('a'));
    expect(open.take(a.res)?.req).to.equal(a.req);
    expect(open.take(a.res)).to.equal(undefined);
    expect(open.peek(a.res)).to.equal(undefined);
    expect(open.size).to.equal(1);
    const left: string[] = [];
    open.forEach((e) => {
      left.push((e.op as unknown as { name: string }).name);
    });
    expect(left).to.deep.equal(['b']);
  });

  it('lets forEach take every entry as it goes (the sweep, stop)', () => {
    const open = new OpenRequests();
    const all = [exchange(), exchange(), exchange()];
    for (const [i, x] of all.entries()) open.add(op(String(i)), x.req, x.res, FACTS);
    const seen: string[] = [];
    open.forEach((e) => {
      seen.push((e.op as unknown as { name: string }).name);
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
    expect(first.take(x.res)?.op).to.deep.equal(op('first'));
    expect(second.take(x.res)?.op).to.deep.equal(op('second'));
  });

  it("finds a response's entry after a framework reshaped it (Express's prototypes)", () => {
    const open = new OpenRequests();
    const x = exchange();
    open.add(op('x'), x.req, x.res, FACTS);
    // What Express does to every response once its app handles the request.
    Object.setPrototypeOf(x.res, Object.create(ServerResponse.prototype, { app: { value: {} } }));
    Object.assign(x.res, { locals: {} });
    expect(open.peek(x.res)?.op).to.deep.equal(op('x'));
    expect(open.take(x.res)?.op).to.deep.equal(op('x'));
    expect(open.peek(x.res)).to.equal(undefined);
    expect(open.take(x.res)).to.equal(undefined);
    expect(open.size).to.equal(0);
  });
});
