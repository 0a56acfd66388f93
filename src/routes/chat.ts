import type Router from '@koa/router';
import {
  formatImpact,
  type Impact,
  type OperationFootprint,
  type OperationTracker,
} from 'carbonscope';
import type { Context, Middleware } from 'koa';
import { footprintView } from '../footprint.js';
import {
  clientError,
  clientGoneSignal,
  codePoints,
  firstCodePoints,
  HttpError,
} from '../http/index.js';
import { CHAT_ROLES, type ChatMessage, type ChatResult, type ChatService } from '../llm/index.js';
import {
  alertText,
  figureLabel,
  formatNumber,
  html,
  page,
  type SafeHtml,
  scrollingTable,
  wantsHtml,
} from '../views/index.js';
import { bodyRead } from './body-read.js';
import { pathRouter } from './router.js';

export interface ChatRouteDeps {
  service: ChatService;
  /** Tracks each chat as operation `chat`: the local energy spent waiting on the call. */
  tracker: OperationTracker;
  /** Largest total message text accepted, characters (code points, as /predict counts). */
  maxContentChars?: number;
}

const DEFAULT_MAX_CONTENT_CHARS = 16_000;
const MAX_MESSAGES = 100;

function parseMessages(raw: unknown, maxChars: number): ChatMessage[] {
  if (!Array.isArray(raw))
    throw new HttpError(400, "'messages' must be an array of {role, content}");
  if (raw.length === 0) throw new HttpError(400, "'messages' is empty: send at least one message");
  if (raw.length > MAX_MESSAGES) {
    throw new HttpError(413, `too many messages: ${raw.length}, the limit is ${MAX_MESSAGES}`);
  }
  let units = 0;
  const messages = raw.map((m: unknown, i): ChatMessage => {
    if (!m || typeof m !== 'object')
      throw new HttpError(400, `messages[${i}] must be an object {role, content}`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !(CHAT_ROLES as readonly string[]).includes(role)) {
      const shown = typeof role === 'string' ? `"${firstCodePoints(role, 40)}"` : 'missing';
      throw new HttpError(
        400,
        `messages[${i}].role is ${shown}; expected one of ${CHAT_ROLES.join(', ')}`,
      );
    }
    if (typeof content !== 'string')
      throw new HttpError(400, `messages[${i}].content must be a string`);
    units += content.length;
    return { role: role as ChatMessage['role'], content };
  });
  // UTF-16 length is never under the code points: the usual text is not counted again.
  const chars = units <= maxChars ? units : messages.reduce((n, m) => n + codePoints(m.content), 0);
  if (chars > maxChars) {
    throw new HttpError(
      413,
      `message content is ${chars} characters, over the limit of ${maxChars}`,
    );
  }
  if (!messages.some((m) => m.content.trim().length > 0)) {
    throw new HttpError(400, 'every message is empty: write something to send');
  }
  return messages;
}

function parseModel(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > 200)
    throw new HttpError(400, "'model' must be a model name such as openai/gpt-4o");
  return raw;
}

/** The page form's message text; undefined when the body is not the form. */
function formMessage(ctx: Context): string | undefined {
  if (!ctx.is('urlencoded')) return undefined;
  const message = (ctx.request.body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : '';
}

/** Reads a JSON body `{messages, model}` or the page's form `{message, model}`. */
function readRequest(
  ctx: Context,
  formText: string | undefined,
  maxChars: number,
): { messages: ChatMessage[]; model?: string } {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  if (formText !== undefined) {
    // A repeated field (or `message[]`) parses as an array or object: not an empty message.
    if (body?.message !== undefined && typeof body.message !== 'string') {
      throw new HttpError(400, "'message' must be one text field");
    }
    return {
      messages: parseMessages([{ role: 'user', content: formText }], maxChars),
      model: parseModel(body?.model),
    };
  }
  if (!ctx.is('json')) {
    throw new HttpError(
      415,
      'send a JSON body {"messages": [{"role", "content"}], "model"} as application/json',
    );
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'the JSON body must be an object {"messages": [...], "model": "..."}');
  }
  return { messages: parseMessages(body.messages, maxChars), model: parseModel(body.model) };
}

const CRITERIA = [
  ['energy', 'Energy'],
  ['gwp', 'Global warming potential'],
  ['adpe', 'Abiotic resource depletion'],
  ['pe', 'Primary energy'],
  ['wcf', 'Water consumption'],
] as const;

function impactsTable(r: ChatResult): SafeHtml {
  const i = r.impacts;
  const cell = (c: Impact | undefined) => (c ? formatImpact(c, formatNumber) : '—');
  const rows = CRITERIA.map(
    ([key, label]) =>
      html`<tr><th scope="row">${label}</th><td>${cell(i[key])}</td><td>${cell(i.usage[key])}</td><td>${cell(key === 'energy' || key === 'wcf' ? undefined : i.embodied[key])}</td></tr>`,
  );
  return scrollingTable(
    'Estimated impacts',
    html`<table>
<thead><tr><th>Criterion</th><th>Total</th><th>Usage</th><th>Embodied</th></tr></thead>
<tbody>${rows}</tbody>
</table>`,
  );
}

function resultSection(r: ChatResult, local: OperationFootprint): SafeHtml {
  const warnings = r.impacts.warnings.map((w) => html`<li>${w.message}</li>`);
  return html`<section>
<h2>Answer</h2>
<p class="pre" dir="auto">${r.message.content}</p>
${r.message.refusal === undefined ? '' : html`<p class="pre" dir="auto">The model declined: ${r.message.refusal}</p>`}
<p class="muted">${r.provider} / ${r.model} · ${r.usage.promptTokens} prompt + ${r.usage.completionTokens} completion tokens · ${formatNumber(r.latencySeconds)} s · electricity mix ${r.impacts.zone}</p>
<h2>Estimated impacts of this request (EcoLogits method)</h2>
${impactsTable(r)}
${warnings.length ? html`<ul class="muted">${warnings}</ul>` : ''}
<p class="muted">Local energy of the call in this process: ${formatNumber(local.joules)} J, ${formatNumber(local.grams)} gCO2e${figureLabel(local)}.</p>
</section>`;
}

function chatPage(
  service: ChatService,
  chosen: string | undefined,
  text: string,
  extra: SafeHtml | string,
  error = false,
): string {
  const selected = chosen ?? service.defaultModel;
  const byProvider = new Map<string, string[]>();
  for (const id of service.models()) {
    const provider = id.slice(0, id.indexOf('/'));
    const ids = byProvider.get(provider);
    if (ids) ids.push(id);
    else byProvider.set(provider, [id]);
  }
  const options = [...byProvider].map(
    ([provider, ids]) =>
      html`<optgroup label="${provider}">${ids.map((id) => html`<option value="${id}"${id === selected ? html` selected` : ''}>${id.slice(provider.length + 1)}</option>`)}</optgroup>`,
  );
  // The newline after <textarea> is the one its parser drops, so a message's own first is kept.
  // The message and the answer are the user's and the model's text: dir=auto, each its own.
  const body = html`<p class="muted">The answer comes from the configured LLM service (a bare model name means provider ${service.provider}'s); its impacts are estimated with the EcoLogits method from the model's size and published speed, the tokens generated and the measured latency.</p>
<form method="post" action="./chat">
<p><label>Message<br><textarea name="message" dir="auto" rows="4" cols="60" required>
${text}</textarea></label></p>
<p><label>Model <select name="model">${options}</select></label> <button type="submit">Send</button></p>
</form>
${extra}`;
  return page('/chat', 'Chat', body, { error });
}

/** GET /chat (page or model list) and POST /chat; `readBody` parses the body of the POST. */
export function chatRoutes(deps: ChatRouteDeps, readBody: Middleware): Router {
  const { service, tracker } = deps;
  const maxChars = deps.maxContentChars ?? DEFAULT_MAX_CONTENT_CHARS;
  const router = pathRouter();

  router.get('/chat', (ctx) => {
    if (wantsHtml(ctx)) {
      ctx.type = 'html';
      ctx.body = chatPage(service, undefined, '', '');
      return;
    }
    ctx.body = {
      provider: service.provider,
      defaultModel: service.defaultModel,
      models: service.models(),
    };
  });

  router.post('/chat', async (ctx) => {
    const asHtml = wantsHtml(ctx);
    try {
      // Read here, not as the route's middleware: what the parser refuses (413, 415, no UTF-8)
      // reaches a browser as the form page, as the route's own refusals do, not as JSON.
      await readBody(ctx, bodyRead);
      const formText = formMessage(ctx);
      const request = readRequest(ctx, formText, maxChars);
      const op = tracker.begin('chat');
      let result: ChatResult;
      try {
        // run(): the CPU of the call is the chat's, not its request's.
        const signal = clientGoneSignal(ctx);
        result = await op.run(() => service.complete({ ...request, signal }));
      } catch (err) {
        op.end();
        throw err;
      }
      const local = op.end();
      if (asHtml) {
        ctx.type = 'html';
        const id = `${result.provider}/${result.model}`;
        ctx.body = chatPage(service, id, formText ?? '', resultSection(result, local));
        return;
      }
      ctx.body = { ...result, local: footprintView(local) };
    } catch (err) {
      // A browser gets the form back with the reason; API clients get the app's JSON error.
      const shown = asHtml ? clientError(err) : undefined;
      if (!shown) throw err;
      ctx.status = shown.status;
      ctx.type = 'html';
      const chosen = (ctx.request.body as { model?: unknown })?.model;
      // As /predict's field, what the form sent, a form the parser refused after reading it (no
      // UTF-8, an escape that does not decode) too, as qs left it (U+FFFD, escapes undecoded).
      const sent = formMessage(ctx) ?? '';
      ctx.body = chatPage(
        service,
        typeof chosen === 'string' ? chosen : undefined,
        firstCodePoints(sent, maxChars),
        html`<p role="alert"><strong>Error:</strong> ${alertText(shown.message)}</p>`,
        true,
      );
    }
  });

  return router;
}
