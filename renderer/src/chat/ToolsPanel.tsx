// The tools the model may call: each a function with a name, description and JSON-schema
// parameters, switched on or off; ready examples; and the tool_choice to send.
import type { ToolDefinition } from './demo-tools.js';
import { EXAMPLE_TOOLS } from './demo-tools.js';
import type { ToolChoice } from './conversations.js';

export function parametersError(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? null : 'must be a JSON object';
  } catch (error) {
    return (error as Error).message;
  }
}

export function ToolsPanel(props: {
  tools: ToolDefinition[];
  toolChoice: ToolChoice;
  onChange: (tools: ToolDefinition[]) => void;
  onChoice: (choice: ToolChoice) => void;
}) {
  const { tools } = props;
  const update = (index: number, patch: Partial<ToolDefinition>) => props.onChange(tools.map((tool, at) => (at === index ? { ...tool, ...patch } : tool)));
  const enabledNames = tools.filter((tool) => tool.enabled && tool.name.trim()).map((tool) => tool.name.trim());
  const missingExamples = EXAMPLE_TOOLS.filter((example) => !tools.some((tool) => tool.name === example.name));

  return (
    <fieldset className="panel-group" data-testid="tools-panel">
      <legend>Tools</legend>
      <label className="field">
        <span>Tool choice</span>
        <select value={props.toolChoice} onChange={(event) => props.onChoice(event.target.value)} data-testid="tool-choice">
          <option value="auto">auto — the model decides</option>
          <option value="required">required — must call a tool</option>
          <option value="none">none — never call</option>
          {enabledNames.map((name) => (
            <option key={name} value={name}>
              {name} — call this one
            </option>
          ))}
        </select>
      </label>
      {tools.map((tool, index) => {
        const schemaError = parametersError(tool.parameters);
        const label = tool.name || `tool ${index + 1}`;
        return (
          <div key={index} className="tool-def" data-testid={`tool-${tool.name || index}`}>
            <input
              type="checkbox"
              className="tool-toggle"
              checked={tool.enabled}
              onChange={(event) => update(index, { enabled: event.target.checked })}
              aria-label={`Offer ${label} to the model`}
              data-testid={`tool-enabled-${tool.name || index}`}
            />
          <details>
            <summary>
              <span className="mono">{label}</span>
              {schemaError && <span className="error-text small-text"> invalid schema</span>}
            </summary>
            <label className="field">
              <span>Name</span>
              <input type="text" value={tool.name} onChange={(event) => update(index, { name: event.target.value.replace(/[^\w-]/g, '_') })} spellCheck={false} />
            </label>
            <label className="field">
              <span>Description</span>
              <input type="text" value={tool.description} onChange={(event) => update(index, { description: event.target.value })} />
            </label>
            <label className="field">
              <span>Parameters (JSON Schema)</span>
              <textarea rows={6} className="mono" value={tool.parameters} onChange={(event) => update(index, { parameters: event.target.value })} spellCheck={false} aria-invalid={schemaError !== null} />
            </label>
            {schemaError && <p className="error-text small-text" role="alert">{schemaError}</p>}
            <button type="button" className="button small danger" onClick={() => props.onChange(tools.filter((_, at) => at !== index))}>
              Remove {label}
            </button>
          </details>
          </div>
        );
      })}
      <div className="row tight wrap">
        <button type="button" className="button small" onClick={() => props.onChange([...tools, { name: 'my_function', description: '', parameters: '{\n  "type": "object",\n  "properties": {}\n}', enabled: true }])}>
          New tool
        </button>
        {missingExamples.map((example) => (
          <button key={example.name} type="button" className="button small" onClick={() => props.onChange([...tools, { ...example }])}>
            Add {example.name}
          </button>
        ))}
      </div>
    </fieldset>
  );
}
