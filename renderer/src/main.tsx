import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { ControlClient } from './control-client.js';
import { resolveToken } from './token.js';
import './styles.css';

const token = await resolveToken();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={token ? new ControlClient(token) : undefined} />
  </StrictMode>,
);
