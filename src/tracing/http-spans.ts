/**
 * The API's request spans, as Fastify hooks: a SERVER span per request that continues an incoming W3C
 * `traceparent`, made the active context for the route's handler (so the enqueue span, job-spans.ts,
 * is its child). Probes and scrapes (/healthz, /readyz, /metrics) are not traced.
 */
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/** @example createHttpSpans(tracer, app) before the routes are registered */
export function createHttpSpans(tracer: Tracer, app: FastifyInstance): void {
  const open = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();
  app.addHook('onRequest', (request, _reply, done) => {
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (UNTRACED.has(path)) {
      done();
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url ?? path;
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'url.path': path,
          'kq.request.id': request.id,
        },
      },
      parent,
    );
    open.set(request, { span, ctx: trace.setSpan(parent, span) });
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const s = open.get(request);
    if (s) context.with(s.ctx, done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const s = open.get(request);
    if (s) {
      open.delete(request);
      s.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) s.span.setStatus({ code: SpanStatusCode.ERROR });
      s.span.end();
    }
    done();
  });
}
