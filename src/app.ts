import type { IncomingMessage, ServerResponse } from 'node:http';
import type Router from '@koa/router';
import { type EnergySnapshot, type GridIntensity, setRoute } from 'carbonscope';
import Koa from 'koa';
import { parseBodies } from './body-parser.js';
import type { Config } from './config.js';
import type { Dashboard } from './dashboard/index.js';
import { warnUnknownSciTo } from './footprint.js';
import {
  answerServerOptions,
  envelope,
  notePathRoute,
  noteRoute,
  routeTemplate,
  sameOriginWrites,
  serviceMethods,
  understoodTransferCodings,
  writesOnly,
} from './http/index.js';
import type { Logger } from './logger.js';
import type { ActivityClassifier } from './predict/index.js';
import type { Readiness } from './readiness.js';
import {
  type ChatRouteDeps,
  carbonIntensityRoutes,
  chatRoutes,
  dashboardRoutes,
  energyRoutes,
  faviconRoute,
  healthRoutes,
  type MetricsText,
  metricsRoute,
  pathRouter,
  predictRoutes,
} from './routes/index.js';

// The service gives the app its exposition (service.ts); the route that serves it names the shape.
export type { MetricsText };

/**
 * Everything the app needs from outside itself. Tests pass stubs for what lies outside the
 * process and the real thing for the rest.
 */
export interface AppDeps {
  config: Config;
  logger: Logger;
  readiness: Readiness;
  /** GET /metrics: the Prometheus exposition (the OTel Prometheus reader, serialized). */
  metricsText: MetricsText;
  /** GET /carbon_intensity(/history): grid intensity with its fallback chain (src/grid). */
  grid?: GridIntensity;
  /** GET/POST /chat: the LLM chat service and the tracker that meters each chat locally. */
  chat?: ChatRouteDeps;
  /** GET /energy: what the meter knows now. Requests are tracked by carbonscope itself. */
  energy?: { snapshot(): EnergySnapshot };
  /** GET/POST /predict: the ONNX activity classifier (src/predict); load it before serving. */
  predict?: ActivityClassifier;
  /** GET /dashboard: the live page and its data (src/dashboard). */
  dashboard?: Dashboard;
}

/**
 * The app, and `nameRoute`: names on a request the app never sees (Node answers a refused
 * Expect itself) the route that would have served it, for request tracking to count it under.
 * The HTTP server calls it (HttpServerOptions.nameRoute).
 */
export type ServiceApp = Koa & {
  nameRoute(req: IncomingMessage, res: ServerResponse): void;
  /** The methods the routes take, as `OPTIONS *`'s Allow lists them (HttpServerOptions.allow). */
  allow: string;
};

export function createApp(deps: AppDeps): ServiceApp {
  const app = new Koa();
  app.proxy = false;
  // Errors are answered and logged by the envelope; Koa's default would print stacks to stderr.
  app.silent = true;
  // The answers' SCI (routes, dashboard, classifier) warns where the app logs, not on stderr.
  warnUnknownSciTo(deps.logger);

  // Only the routes that take a body read it: a write to a path or method no route takes is the
  // router's 404/405, not the parser's 400 or 413 for a body nobody would use.
  const readBody = parseBodies(deps.config.bodyLimitBytes);
  // Every route, for what asks which one a request would have taken (405s, OPTIONS, the route
  // of a rejected request); requests are served by the two below. @koa/router tests every
  // route's pattern on every request, so the pages only a person opens (the dashboard and /,
  // /energy, /chat) are asked only after the routes a probe or a client calls found nothing: in
  // one router they were 7 of each /healthz request's 14 tests, ~0.2 µs in a loop (item 30 of the
  // README's "What was done"). No path is served by both, so each request gets the same answer.
  const router = pathRouter();
  const served = pathRouter();
  const opened = pathRouter();
  const add = (to: Router, routes: Router) => {
    to.use(routes.routes());
    router.use(routes.routes());
  };
  add(served, healthRoutes(deps.readiness));
  add(served, metricsRoute(deps.metricsText));
  if (deps.grid) add(served, carbonIntensityRoutes(deps.grid));
  if (deps.predict) add(served, predictRoutes(deps.predict, readBody));
  if (deps.chat) add(opened, chatRoutes(deps.chat, readBody));
  if (deps.energy) add(opened, energyRoutes(deps.energy));
  if (deps.dashboard) add(opened, dashboardRoutes(deps.dashboard, deps.config.proxyPrefix));
  // Asked by a browser that opened a JSON document (/energy, /metrics): last, as the rarest.
  add(opened, faviconRoute());

  app.use(envelope(deps.logger));
  const note = (ctx: Koa.Context) => noteRoute(router, ctx);
  app.use(understoodTransferCodings(note, writesOnly(sameOriginWrites(note))));
  // A route of `served` answers without calling next(): `opened` is not asked.
  app.use(served.routes());
  if (opened.stack.length > 0) app.use(opened.routes());
  // Reached only when no route took path and method: `OPTIONS *` is answered here; what
  // allowedMethods answered for a path that matched (405, OPTIONS) is counted under its route.
  const allow = serviceMethods(router);
  app.use(async (ctx, next) => {
    if (answerServerOptions(ctx, allow)) return;
    await next();
    if (ctx.status !== 404) notePathRoute(ctx);
  });
  app.use(router.allowedMethods());
  const nameRoute = (req: IncomingMessage, res: ServerResponse) => {
    // Koa's own reading of the path (an absolute-form target's too), as the router would get it.
    const ctx = app.createContext(req, res);
    const template = routeTemplate(router, ctx.path, ctx.method);
    if (template !== undefined) setRoute(req, template);
  };
  return Object.assign(app, { nameRoute, allow });
}
