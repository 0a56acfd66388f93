import { channel } from 'node:diagnostics_channel';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import { collected } from '../../helpers/collected.js';
import { steadyCarbonscope } from '../energy/scripted.js';

const start = channel('http.server.request.start');
const finish = channel('http.server.response.finish');

// A request's open entry is its operation (one object a request), and the tracker holds an
// ended operation till the next sample where its CPU is measured: the entry lets go of the
// request and response as the request ends, or every request's objects outlived their request
// by up to a sample interval, into the old generation.
describe('http: an ended request the tracker holds till the sample', () => {
  it('holds neither its request nor its response (exact attribution)', async () => {
    const cs = await steadyCarbonscope({}, { ENERGY_OPERATION_ATTRIBUTION: 'exact' });
    await cs.start();
    cs.trackRequests();
    const server = createServer();
    const socket = new Socket();
    try {
      const [request, response] = (() => {
        const request = new IncomingMessage(socket);
        const response = new ServerResponse(request);
        const message = { request, response, socket, server };
        start.publish(message);
        finish.publish(message);
        return [new WeakRef(request), new WeakRef(response)];
      })();
      expect(await collected(request)).to.equal(true);
      expect(await collected(response)).to.equal(true);
    } finally {
      await cs.stop();
    }
  });
});
