// The chat console: talks to the node's own OpenAI API like any client would, streaming. Tool
// calls show as they stream; the user (or a built-in demo tool) answers each, and the chat goes on.
// Conversations are kept in localStorage.
import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { PageProps } from '../App.js';
import type { AssistantDraft, ToolCall } from '../chat/assistant-draft.js';
import {
  loadConversations,
  newConversation,
  requestBody,
  saveConversations,
  titleFor,
  unansweredToolCalls,
  type ChatMessage,
  type Conversation,
} from '../chat/conversations.js';
import { demoAnswer, hasDemoAnswer } from '../chat/demo-tools.js';
import { streamChat } from '../chat/stream-chat.js';
import { ToolsPanel, parametersError } from '../chat/ToolsPanel.js';
import { useModels } from '../use-models.js';
import { messageOf } from '../ui/errors.js';

export function ChatPage({ client, hub }: PageProps) {
  const { models } = useModels(client, hub);
  const loadedIds = useMemo(() => models?.loaded.map((model) => model.id) ?? [], [models]);
  const [conversations, setConversations] = useState<Conversation[]>(() => {
    const saved = loadConversations(window.localStorage);
    return saved.length > 0 ? saved : [newConversation('')];
  });
  const [activeId, setActiveId] = useState(() => conversations[0]!.id);
  const [apiKey, setApiKey] = useState<string | null>(null);
  const [input, setInput] = useState('');
  const [draft, setDraft] = useState<AssistantDraft>();
  const [error, setError] = useState<string>();
  const abort = useRef<AbortController | undefined>(undefined);
  const scroller = useRef<HTMLDivElement>(null);

  const conversation = conversations.find((candidate) => candidate.id === activeId) ?? conversations[0]!;
  const model = loadedIds.includes(conversation.model) ? conversation.model : (loadedIds[0] ?? '');
  const streaming = draft !== undefined;

  useEffect(() => {
    client.getServer().then((server) => setApiKey(server.apiKey), () => setApiKey(null));
  }, [client]);
  useEffect(() => saveConversations(window.localStorage, conversations), [conversations]);
  useEffect(() => {
    scroller.current?.scrollTo({ top: scroller.current.scrollHeight });
  }, [conversation.messages.length, draft]);
  useEffect(() => () => abort.current?.abort(), []);

  const update = (id: string, change: (previous: Conversation) => Conversation) =>
    setConversations((previous) => previous.map((candidate) => (candidate.id === id ? { ...change(candidate), updatedAt: Date.now() } : candidate)));

  /** Sends the conversation as it stands and appends the answer. */
  const answer = async (base: Conversation) => {
    const controller = new AbortController();
    abort.current = controller;
    setError(undefined);
    setDraft({ content: '', reasoning: '', toolCalls: [], finishReason: null, usage: null });
    let latest: AssistantDraft | undefined;
    try {
      const { draft: final, timings } = await streamChat({
        body: requestBody({ ...base, model }),
        apiKey,
        signal: controller.signal,
        onDraft: (next) => {
          latest = next;
          setDraft(next);
        },
      });
      const message: ChatMessage = {
        role: 'assistant',
        content: final.content === '' && final.toolCalls.length > 0 ? null : final.content,
        ...(final.reasoning ? { reasoning: final.reasoning } : {}),
        ...(final.toolCalls.length > 0 ? { tool_calls: final.toolCalls } : {}),
        stats: {
          timeToFirstTokenMs: timings.timeToFirstTokenMs,
          tokensPerSecond: timings.tokensPerSecond,
          completionTokens: final.usage?.completionTokens ?? null,
          finishReason: final.finishReason,
        },
      };
      update(base.id, (previous) => ({ ...previous, messages: [...previous.messages, message] }));
    } catch (caught) {
      if (controller.signal.aborted) {
        // Stopped: keep what came, marked, without unfinished tool calls (they cannot be answered).
        const partial = latest?.content ?? '';
        update(base.id, (previous) => ({ ...previous, messages: [...previous.messages, { role: 'assistant', content: partial, stopped: true }] }));
      } else {
        setError(messageOf(caught));
      }
    } finally {
      abort.current = undefined;
      setDraft(undefined);
    }
  };

  const send = (event?: FormEvent) => {
    event?.preventDefault();
    const text = input.trim();
    if (!text || streaming || !model) return;
    const messages: ChatMessage[] = [...conversation.messages, { role: 'user', content: text }];
    const next = { ...conversation, model, messages, title: conversation.messages.length === 0 ? titleFor(messages) : conversation.title };
    update(conversation.id, () => next);
    setInput('');
    void answer(next);
  };

  const answerTool = (call: ToolCall, result: string) => {
    const messages: ChatMessage[] = [...conversation.messages, { role: 'tool', tool_call_id: call.id, name: call.function.name, content: result }];
    const next = { ...conversation, messages };
    update(conversation.id, () => next);
    if (unansweredToolCalls(messages).length === 0) void answer(next); // every call answered: the model goes on
  };

  const onComposerKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey) send(event as unknown as FormEvent);
  };

  const pending = streaming ? [] : unansweredToolCalls(conversation.messages);
  const toolsInvalid = conversation.tools.some((tool) => tool.enabled && parametersError(tool.parameters) !== null);

  return (
    <div className="chat">
      <aside className="chat-list" aria-label="Conversations">
        <button
          type="button"
          className="button primary block"
          onClick={() => {
            const fresh = newConversation(model);
            setConversations((previous) => [fresh, ...previous]);
            setActiveId(fresh.id);
          }}
          data-testid="new-chat"
        >
          New chat
        </button>
        <ul>
          {[...conversations]
            .sort((a, b) => b.updatedAt - a.updatedAt)
            .map((candidate) => (
              <li key={candidate.id} className={candidate.id === conversation.id ? 'active' : undefined}>
                <button type="button" className="chat-link" aria-current={candidate.id === conversation.id ? 'true' : undefined} onClick={() => setActiveId(candidate.id)}>
                  {candidate.title}
                </button>
                <button
                  type="button"
                  className="icon-button"
                  aria-label={`Delete conversation ${candidate.title}`}
                  onClick={() =>
                    setConversations((previous) => {
                      const rest = previous.filter((other) => other.id !== candidate.id);
                      if (rest.length === 0) rest.push(newConversation(model));
                      if (candidate.id === conversation.id) setActiveId(rest[0]!.id);
                      return rest;
                    })
                  }
                >
                  ×
                </button>
              </li>
            ))}
        </ul>
      </aside>

      <section className="chat-main" aria-label="Conversation">
        <div className="messages" ref={scroller} data-testid="messages" aria-live="polite">
          {conversation.messages.length === 0 && !streaming && (
            <div className="empty chat-empty">
              {model ? (
                <p>
                  Ask <strong>{model}</strong> anything. Turn on tools on the right to try function calling.
                </p>
              ) : (
                <p>No model is loaded. Load one on the Models page, then come back.</p>
              )}
            </div>
          )}
          {conversation.messages.map((message, index) => (
            <MessageView key={index} message={message} />
          ))}
          {draft && <MessageView message={{ role: 'assistant', content: draft.content, tool_calls: draft.toolCalls }} streaming />}
          {pending.map((call) => (
            <ToolAnswer key={call.id} call={call} onAnswer={(result) => answerTool(call, result)} />
          ))}
          {error && (
            <p className="notice error" role="alert" data-testid="chat-error">
              {error}
            </p>
          )}
        </div>
        <form className="composer" onSubmit={send}>
          <label className="visually-hidden" htmlFor="chat-input">
            Message
          </label>
          <textarea
            id="chat-input"
            rows={2}
            value={input}
            onChange={(event) => setInput(event.target.value)}
            onKeyDown={onComposerKey}
            placeholder={model ? `Message ${model} (Enter to send, Shift+Enter for a new line)` : 'Load a model first'}
            disabled={!model}
            data-testid="chat-input"
          />
          {streaming ? (
            <button type="button" className="button danger" onClick={() => abort.current?.abort()} data-testid="chat-stop">
              Stop
            </button>
          ) : (
            <button type="submit" className="button primary" disabled={!model || input.trim() === '' || pending.length > 0 || toolsInvalid} data-testid="chat-send">
              Send
            </button>
          )}
        </form>
      </section>

      <aside className="chat-settings" aria-label="Chat settings">
        <label className="field">
          <span>Model</span>
          <select value={model} onChange={(event) => update(conversation.id, (previous) => ({ ...previous, model: event.target.value }))} data-testid="chat-model">
            {loadedIds.length === 0 && <option value="">no model loaded</option>}
            {loadedIds.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>System prompt</span>
          <textarea rows={3} value={conversation.systemPrompt} onChange={(event) => update(conversation.id, (previous) => ({ ...previous, systemPrompt: event.target.value }))} data-testid="system-prompt" />
        </label>
        <fieldset className="panel-group">
          <legend>Sampling</legend>
          <NumberField label="Temperature" value={conversation.sampling.temperature} min={0} max={2} step={0.1} onChange={(temperature) => update(conversation.id, (previous) => ({ ...previous, sampling: { ...previous.sampling, temperature } }))} />
          <NumberField label="Top p" value={conversation.sampling.topP} min={0} max={1} step={0.05} onChange={(topP) => update(conversation.id, (previous) => ({ ...previous, sampling: { ...previous.sampling, topP } }))} />
          <NumberField label="Max tokens" value={conversation.sampling.maxTokens} min={1} max={32768} step={1} testId="max-tokens" onChange={(maxTokens) => update(conversation.id, (previous) => ({ ...previous, sampling: { ...previous.sampling, maxTokens: Math.round(maxTokens) } }))} />
          <label className="field">
            <span>Seed (empty: random)</span>
            <input type="text" inputMode="numeric" value={conversation.sampling.seed} onChange={(event) => update(conversation.id, (previous) => ({ ...previous, sampling: { ...previous.sampling, seed: event.target.value.replace(/[^\d]/g, '') } }))} />
          </label>
        </fieldset>
        <ToolsPanel
          tools={conversation.tools}
          toolChoice={conversation.toolChoice}
          onChange={(tools) => update(conversation.id, (previous) => ({ ...previous, tools }))}
          onChoice={(toolChoice) => update(conversation.id, (previous) => ({ ...previous, toolChoice }))}
        />
      </aside>
    </div>
  );
}

function NumberField(props: { label: string; value: number; min: number; max: number; step: number; testId?: string; onChange: (value: number) => void }) {
  return (
    <label className="field inline">
      <span>{props.label}</span>
      <input
        type="number"
        value={props.value}
        min={props.min}
        max={props.max}
        step={props.step}
        data-testid={props.testId}
        onChange={(event) => {
          const value = Number(event.target.value);
          if (Number.isFinite(value)) props.onChange(Math.min(props.max, Math.max(props.min, value)));
        }}
      />
    </label>
  );
}

function MessageView({ message, streaming = false }: { message: ChatMessage; streaming?: boolean }) {
  if (message.role === 'user') {
    return (
      <div className="message user" data-testid="message-user">
        <div className="bubble">{message.content}</div>
      </div>
    );
  }
  if (message.role === 'tool') {
    return (
      <div className="message tool" data-testid="message-tool">
        <div className="tool-card">
          <div className="tool-head">
            Result of <span className="mono">{message.name}</span>
          </div>
          <pre>{message.content}</pre>
        </div>
      </div>
    );
  }
  return (
    <div className={streaming ? 'message assistant streaming' : 'message assistant'} data-testid={streaming ? 'message-streaming' : 'message-assistant'}>
      {message.content ? <div className="bubble">{message.content}</div> : null}
      {streaming && !message.content && !message.tool_calls?.length && <div className="bubble muted">…</div>}
      {message.tool_calls?.map((call, index) => (
        <div key={call.id || index} className="tool-card call" data-testid="tool-call">
          <div className="tool-head">
            Calls <span className="mono" data-testid="tool-call-name">{call.function.name || '…'}</span>
          </div>
          <pre data-testid="tool-call-arguments">{prettyJson(call.function.arguments)}</pre>
        </div>
      ))}
      {message.stats && (
        <div className="stats muted small-text" data-testid="answer-stats">
          {message.stats.timeToFirstTokenMs !== null && <span>first token {Math.round(message.stats.timeToFirstTokenMs)} ms</span>}
          {message.stats.tokensPerSecond !== null && <span data-testid="tokens-per-second">{message.stats.tokensPerSecond.toFixed(1)} tok/s</span>}
          {message.stats.completionTokens !== null && <span>{message.stats.completionTokens} tokens</span>}
          {message.stats.finishReason && <span>{message.stats.finishReason}</span>}
        </div>
      )}
      {message.stopped && <div className="stats muted small-text">stopped</div>}
    </div>
  );
}

function ToolAnswer({ call, onAnswer }: { call: ToolCall; onAnswer: (result: string) => void }) {
  const [result, setResult] = useState('');
  const demo = hasDemoAnswer(call.function.name);
  return (
    <form
      className="tool-answer"
      data-testid="tool-answer"
      onSubmit={(event) => {
        event.preventDefault();
        if (result.trim()) onAnswer(result.trim());
      }}
    >
      <label className="field">
        <span>
          Result for <span className="mono">{call.function.name}</span>
        </span>
        <textarea rows={2} className="mono" value={result} onChange={(event) => setResult(event.target.value)} placeholder='{"temperature": 21}' data-testid="tool-result" />
      </label>
      <div className="row tight">
        <button type="submit" className="button primary small" disabled={result.trim() === ''} data-testid="tool-send-result">
          Send result
        </button>
        {demo && (
          <button type="button" className="button small" onClick={() => onAnswer(demoAnswer(call.function.name, call.function.arguments))} data-testid="tool-run-demo">
            Answer with the demo {call.function.name}
          </button>
        )}
      </div>
    </form>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text; // still streaming, or not JSON
  }
}
