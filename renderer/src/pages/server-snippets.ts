// Copy-paste setup for the clients people point at an OpenAI-compatible server. Pure: the base URL,
// key and model go in, text comes out.

export interface Snippet {
  id: string;
  title: string;
  /** Where the text goes, e.g. "~/.continue/config.yaml". */
  where: string;
  text: string;
}

export function setupSnippets(baseUrl: string, apiKey: string | null, model: string): Snippet[] {
  const key = apiKey ?? 'none';
  return [
    {
      id: 'continue',
      title: 'Continue',
      where: '~/.continue/config.yaml',
      text: `models:\n  - name: Tessera ${model}\n    provider: openai\n    model: ${model}\n    apiBase: ${baseUrl}\n    apiKey: ${key}\n    roles: [chat, edit, apply]`,
    },
    {
      id: 'cline',
      title: 'Cline',
      where: 'Cline settings → API Provider: “OpenAI Compatible”',
      text: `Base URL: ${baseUrl}\nAPI Key: ${key}\nModel ID: ${model}`,
    },
    {
      id: 'zed',
      title: 'Zed',
      where: 'Zed settings.json',
      text: JSON.stringify(
        {
          language_models: {
            openai_compatible: {
              Tessera: { api_url: baseUrl, available_models: [{ name: model, display_name: `Tessera ${model}`, max_tokens: 4096 }] },
            },
          },
        },
        null,
        2,
      ),
    },
    {
      id: 'aider',
      title: 'aider',
      where: 'Terminal',
      text: `export OPENAI_API_BASE=${baseUrl}\nexport OPENAI_API_KEY=${key}\naider --model openai/${model}`,
    },
    {
      id: 'sdk',
      title: 'OpenAI SDK',
      where: 'Python (pip install openai)',
      text: `from openai import OpenAI\n\nclient = OpenAI(base_url="${baseUrl}", api_key="${key}")\nreply = client.chat.completions.create(\n    model="${model}",\n    messages=[{"role": "user", "content": "Hello!"}],\n)\nprint(reply.choices[0].message.content)`,
    },
    {
      id: 'curl',
      title: 'curl',
      where: 'Terminal',
      text: `curl ${baseUrl}/chat/completions \\\n  -H "Content-Type: application/json" \\\n${apiKey ? `  -H "Authorization: Bearer ${apiKey}" \\\n` : ''}  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
    },
  ];
}
