import { generateTokens, naturalLength, prng, fnv1a, tokenize } from './text';

/** What one choice will emit, one piece per engine step. */
export type ChoicePlan =
  | { kind: 'text'; pieces: string[]; finishReason: 'stop' | 'length' }
  | { kind: 'tool'; id: string; name: string; pieces: string[]; finishReason: 'tool_calls' };

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

interface ToolSpec {
  type?: string;
  function?: { name?: string; parameters?: { properties?: Record<string, { type?: string }> } };
}

/** The text of a message's content: a string, or the text parts of a content array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  }
  return '';
}

/** A chat template in the spirit of vLLM's: role markers, then the assistant turn. */
export function renderChatPrompt(messages: readonly ChatMessage[], tools: unknown): string {
  let prompt = '';
  if (Array.isArray(tools) && tools.length > 0) prompt += `<|tools|>\n${JSON.stringify(tools)}\n`;
  for (const m of messages) prompt += `<|${String(m.role)}|>\n${contentText(m.content)}\n`;
  return prompt + '<|assistant|>\n';
}

/** Output length and finish reason the way vLLM decides them: EOS unless max_tokens (or ignore_eos) says otherwise. */
export function planLength(
  prompt: string,
  choice: number,
  seed: number,
  maxTokens: number | undefined,
  ignoreEos: boolean,
): { count: number; finishReason: 'stop' | 'length' } {
  const natural = naturalLength(prompt, choice, seed);
  if (maxTokens === undefined) return { count: natural, finishReason: 'stop' };
  if (ignoreEos || natural >= maxTokens) return { count: maxTokens, finishReason: 'length' };
  return { count: natural, finishReason: 'stop' };
}

export function planText(prompt: string, choice: number, seed: number, maxTokens: number | undefined, ignoreEos: boolean): ChoicePlan {
  const { count, finishReason } = planLength(prompt, choice, seed, maxTokens, ignoreEos);
  return { kind: 'text', pieces: generateTokens(prompt, count, choice, seed), finishReason };
}

/**
 * Chooses a tool call when tools are offered and the model is asked to act:
 * tool_choice "required" or a named function, or "auto" when the last message
 * is the user's (after a tool result the model answers in text).
 */
export function pickTool(tools: unknown, toolChoice: unknown, messages: readonly ChatMessage[]): ToolSpec | undefined {
  if (!Array.isArray(tools) || tools.length === 0 || toolChoice === 'none') return undefined;
  const specs = tools as ToolSpec[];
  if (toolChoice && typeof toolChoice === 'object') {
    const name = (toolChoice as { function?: { name?: string } }).function?.name;
    return specs.find((t) => t.function?.name === name) ?? specs[0];
  }
  if (toolChoice === 'required') return specs[0];
  const last = messages[messages.length - 1];
  return last?.role === 'user' ? specs[0] : undefined;
}

export function planToolCall(tool: ToolSpec, prompt: string, choice: number, seed: number): ChoicePlan {
  const next = prng(fnv1a(prompt, fnv1a(`tool:${seed}:${choice}`)));
  const args: Record<string, unknown> = {};
  const words = tokenize(prompt.toLowerCase()).filter((w) => /\w/.test(w));
  for (const [name, schema] of Object.entries(tool.function?.parameters?.properties ?? {})) {
    const type = schema?.type;
    if (type === 'number' || type === 'integer') args[name] = Math.floor(next() * 100);
    else if (type === 'boolean') args[name] = next() < 0.5;
    else args[name] = words.length > 0 ? words[Math.floor(next() * words.length)] : 'value';
  }
  const json = JSON.stringify(args);
  const pieces: string[] = [''];
  for (let i = 0; i < json.length; i += 4) pieces.push(json.slice(i, i + 4));
  const id = `chatcmpl-tool-${fnv1a(prompt, choice).toString(16)}`;
  return { kind: 'tool', id, name: tool.function?.name ?? 'tool', pieces, finishReason: 'tool_calls' };
}
