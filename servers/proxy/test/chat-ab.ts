import { abReport, type AbRun, type DashboardHooks } from '../src/index';

export const CHAT_MODEL = 'ragwire/sim-8b';
export const EMBED_MODEL = 'ragwire/sim-embed';

/** POSTs JSON and returns the parsed answer with how long it took; throws on a non-2xx answer. */
async function timedPost(url: string, body: unknown, headers: Record<string, string>): Promise<{ ms: number; json: any }> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const json = await res.json();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return { ms, json };
}

/** Embeds the question, then asks the chat model about it, against one OpenAI-compatible base URL. */
async function embedThenChat(label: string, baseUrl: string, question: string, headers: Record<string, string>): Promise<AbRun> {
  const started = performance.now();
  const embed = await timedPost(`${baseUrl}/v1/embeddings`, { model: EMBED_MODEL, input: question, encoding_format: 'float' }, headers);
  const chat = await timedPost(
    `${baseUrl}/v1/chat/completions`,
    { model: CHAT_MODEL, messages: [{ role: 'user', content: question }], max_tokens: 16, temperature: 0 },
    headers,
  );
  return {
    label,
    totalMs: performance.now() - started,
    stages: { embed: embed.ms, generate: chat.ms },
    answer: String(chat.json.choices[0].message.content),
  };
}

/**
 * An A/B comparison for proxy tests, with real calls both ways: the baseline
 * sends the requests straight to the simulated vLLM with fetch, the other
 * side sends the same requests through the proxy. `proxyUrl` is read when a
 * run starts (the proxy's URL is known only once it listens).
 */
export function directVersusProxy(simUrl: string, proxyUrl: () => string, apiKey?: string): DashboardHooks {
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  return {
    async runAb(question) {
      const baseline = await embedThenChat('direct to vLLM', simUrl, question, {});
      const ragwire = await embedThenChat('through ragwire-proxy', proxyUrl(), question, headers);
      return abReport(question, baseline, ragwire);
    },
  };
}
