// The per-call counters are tallied by Metrics itself and handed to prom-client at each scrape:
// a scrape must show every bump, once, however often it is scraped.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/http/metrics.js';

describe('per-call counters', () => {
  it('count every call, cache read and HTTP answer, and a second scrape shows the same totals', async () => {
    const metrics = new Metrics();
    for (let i = 0; i < 3; i++) metrics.observeToolCall({ tool: 'get_subscription_status', outcome: 'ok', ms: 4 });
    metrics.observeToolCall({ tool: 'get_subscription_status', outcome: 'not_verified', ms: 2 });
    metrics.observeCacheRead('hit');
    metrics.observeCacheRead('hit');
    metrics.observeCacheRead('miss');
    metrics.observeHttp('/v1/tools/:name', 200);
    metrics.observeHttp('/v1/tools/:name', 429);
    metrics.observeHttp('/v1/tools/:name', 200);
    for (let scrape = 0; scrape < 2; scrape++) {
      const { body } = await metrics.render();
      expect(body).toContain('sbm_tool_calls_total{tool="get_subscription_status",outcome="ok"} 3');
      expect(body).toContain('sbm_tool_calls_total{tool="get_subscription_status",outcome="not_verified"} 1');
      expect(body).toContain('sbm_cache_reads_total{outcome="hit"} 2');
      expect(body).toContain('sbm_cache_reads_total{outcome="miss"} 1');
      expect(body).toContain('sbm_http_requests_total{route="/v1/tools/:name",status="200"} 2');
      expect(body).toContain('sbm_http_requests_total{route="/v1/tools/:name",status="429"} 1');
      expect(body).toMatch(/# TYPE sbm_tool_calls_total counter/);
    }
    metrics.observeCacheRead('hit');
    expect((await metrics.render()).body).toContain('sbm_cache_reads_total{outcome="hit"} 3');
  });
});
