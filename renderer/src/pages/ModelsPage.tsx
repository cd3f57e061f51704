// Models on this node: the GGUF files in its models folder (described from their headers), which
// are loaded, load/unload, import a file from elsewhere on disk, delete.
import { useState, type FormEvent } from 'react';
import type { LocalModel } from '../../../shared/control.js';
import type { PageProps } from '../App.js';
import { formatBytes } from '../format.js';
import { useModels } from '../use-models.js';
import { messageOf } from '../ui/errors.js';

export function ModelsPage({ client, hub }: PageProps) {
  const { models, error } = useModels(client, hub);
  const [busy, setBusy] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const [importPath, setImportPath] = useState('');

  const act = async (key: string, action: () => Promise<unknown>) => {
    setBusy(key);
    setFailure(undefined);
    try {
      await action();
    } catch (caught) {
      setFailure(messageOf(caught));
    } finally {
      setBusy(undefined);
    }
  };
  const onImport = (event: FormEvent) => {
    event.preventDefault();
    if (importPath.trim() === '') return;
    void act('import', async () => {
      await client.importModel(importPath.trim());
      setImportPath('');
    });
  };

  if (error) return <p className="notice error" role="alert">Cannot list models: {error}</p>;
  if (!models) return <p className="notice">Loading models…</p>;
  const loadedIds = new Set(models.loaded.map((model) => model.id));
  const loadingIds = new Set(models.loading.map((model) => model.id));
  const localPaths = new Set(models.local.map((model) => model.path));
  const loadedElsewhere = models.loaded.filter((model) => !localPaths.has(model.path));

  return (
    <div className="stack">
      {failure && (
        <p className="notice error" role="alert" data-testid="models-error">
          {failure}
        </p>
      )}
      <section className="card" aria-labelledby="local-models-title">
        <div className="card-head">
          <h2 id="local-models-title">Local models</h2>
          <span className="muted mono small-text" title="Models folder">{models.modelsDir}</span>
        </div>
        {models.local.length === 0 && loadedElsewhere.length === 0 ? (
          <div className="empty" data-testid="models-empty">
            <p>No models yet.</p>
            <p className="muted">Import a <code>.gguf</code> file below, or copy one into the models folder above.</p>
          </div>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="models-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Architecture</th>
                  <th scope="col">Quant</th>
                  <th scope="col">Layers</th>
                  <th scope="col">Size</th>
                  <th scope="col">Status</th>
                  <th scope="col"><span className="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {models.local.map((model) => (
                  <ModelRow
                    key={model.path}
                    model={model}
                    loaded={loadedIds.has(model.id)}
                    loading={loadingIds.has(model.id)}
                    busy={busy}
                    onLoad={() => act(`load:${model.id}`, () => client.loadModel(model.path))}
                    onUnload={() => act(`unload:${model.id}`, () => client.unloadModel(model.id))}
                    onDelete={() => {
                      if (window.confirm(`Delete ${model.file} from disk?`)) void act(`delete:${model.file}`, () => client.deleteModel(model.file));
                    }}
                  />
                ))}
                {loadedElsewhere.map((model) => (
                  <tr key={model.path} data-testid={`model-row-${model.id}`}>
                    <th scope="row">
                      <div>{model.id}</div>
                      <div className="muted mono small-text">{model.path}</div>
                    </th>
                    <td>{model.architecture}</td>
                    <td className="muted">—</td>
                    <td>{model.nLayers}</td>
                    <td>{formatBytes(model.weightBytes)}</td>
                    <td><span className="pill ok">Loaded</span></td>
                    <td className="actions">
                      <button type="button" className="button small" disabled={busy !== undefined} onClick={() => void act(`unload:${model.id}`, () => client.unloadModel(model.id))}>
                        Unload<span className="visually-hidden"> {model.id}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="import-title">
        <h2 id="import-title">Import a GGUF file</h2>
        <form className="row" onSubmit={onImport}>
          <label className="field grow">
            <span>Path on this computer</span>
            <input
              type="text"
              value={importPath}
              onChange={(event) => setImportPath(event.target.value)}
              placeholder="/home/me/Downloads/qwen3-0.6b-q8_0.gguf"
              spellCheck={false}
              data-testid="import-path"
            />
          </label>
          <button type="submit" className="button primary" disabled={busy !== undefined || importPath.trim() === ''}>
            {busy === 'import' ? 'Copying…' : 'Import'}
          </button>
        </form>
        <p className="muted small">The file is copied into the models folder; the original stays where it is.</p>
      </section>
    </div>
  );
}

function ModelRow(props: {
  model: LocalModel;
  loaded: boolean;
  loading: boolean;
  busy: string | undefined;
  onLoad: () => void;
  onUnload: () => void;
  onDelete: () => void;
}) {
  const { model, loaded, loading, busy } = props;
  return (
    <tr data-testid={`model-row-${model.id}`}>
      <th scope="row">
        <div>{model.name ?? model.id}</div>
        <div className="muted mono small-text">{model.file}</div>
        {model.error && <div className="error-text small-text">{model.error}</div>}
      </th>
      <td>{model.architecture ?? '—'}</td>
      <td>{model.quant ?? '—'}</td>
      <td>{model.layers ?? '—'}</td>
      <td>{formatBytes(model.sizeBytes)}</td>
      <td>{loading ? <span className="pill warn">Loading…</span> : loaded ? <span className="pill ok">Loaded</span> : <span className="pill">On disk</span>}</td>
      <td className="actions">
        {loaded ? (
          <button type="button" className="button small" disabled={busy !== undefined} onClick={props.onUnload}>
            Unload<span className="visually-hidden"> {model.id}</span>
          </button>
        ) : (
          <button type="button" className="button small primary" disabled={busy !== undefined || loading || model.error !== null} onClick={props.onLoad}>
            Load<span className="visually-hidden"> {model.id}</span>
          </button>
        )}
        <button type="button" className="button small danger" disabled={busy !== undefined || loaded || loading} onClick={props.onDelete}>
          Delete<span className="visually-hidden"> {model.file}</span>
        </button>
      </td>
    </tr>
  );
}
