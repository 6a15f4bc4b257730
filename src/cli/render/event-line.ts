import { promptIdOf, type ComfyEvent } from '../../../streams/messages.js';
import { filesOf } from '../../../streams/job-state.js';
import { bar } from './progress.js';

/** What the renderer may know about a node beyond its id. */
export interface NodeInfoHint {
  classType?: string;
  title?: string;
}

function clock(t: number): string {
  const d = new Date(t);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function nodeLabel(id: string | null | undefined, hint?: NodeInfoHint): string {
  if (id === null || id === undefined) return '';
  const name = hint?.title ?? hint?.classType;
  return name ? `#${id} ${name}` : `#${id}`;
}

/** One readable line per event: time, short prompt id, event, node, details. */
export function formatEvent(event: ComfyEvent, t: number, hint?: NodeInfoHint): string {
  const pid = promptIdOf(event);
  const head = `${clock(t)} ${(pid ?? '-').slice(0, 8).padEnd(8)} ${event.type.padEnd(21)}`;
  switch (event.type) {
    case 'status':
      return `${head} queue_remaining=${event.data.status.exec_info.queue_remaining}${event.data.sid ? ` sid=${event.data.sid}` : ''}`;
    case 'execution_start':
      return head;
    case 'execution_cached':
      return `${head} ${event.data.nodes.length} cached${event.data.nodes.length ? `: ${event.data.nodes.join(', ')}` : ''}`;
    case 'executing':
      if (event.data.node === null) return `${head} (end of run)`;
      return `${head} ${nodeLabel(event.data.display_node ?? event.data.node, hint)}${event.data.prompt_id ? '' : ' (re-sent after reconnect)'}`;
    case 'progress':
      return `${head} ${nodeLabel(event.data.node, hint)} ${bar(event.data.max ? event.data.value / event.data.max : 0)} ${event.data.value}/${event.data.max}`;
    case 'progress_state': {
      const nodes = Object.values(event.data.nodes);
      const running = nodes.filter((n) => n.state === 'running').map((n) => `#${n.node_id} ${n.value}/${n.max}`);
      const done = nodes.filter((n) => n.state === 'finished').length;
      return `${head} ${done} finished${running.length ? `, running ${running.join(', ')}` : ''}`;
    }
    case 'executed': {
      const output = event.data.output;
      const files = output ? filesOf(event.data.node, output).map((f) => (f.subfolder ? `${f.subfolder}/${f.filename}` : f.filename)) : [];
      const texts = output ? (output['text'] ?? []).filter((x): x is string => typeof x === 'string') : [];
      const what = [...files, ...texts.map((x) => JSON.stringify(x.length > 60 ? `${x.slice(0, 57)}...` : x))];
      return `${head} ${nodeLabel(event.data.node, hint)}${what.length ? ` -> ${what.join(', ')}` : output === null ? ' (cached, no UI output)' : ''}`;
    }
    case 'execution_success':
      return head;
    case 'execution_error':
      return `${head} ${nodeLabel(event.data.node_id, { classType: event.data.node_type, ...hint })} ${event.data.exception_type}: ${event.data.exception_message.trim().split('\n')[0]}`;
    case 'execution_interrupted':
      return `${head} ${nodeLabel(event.data.node_id, { classType: event.data.node_type, ...hint })}`;
    case 'feature_flags':
      return `${head} ${JSON.stringify(event.data)}`;
    case 'preview': {
      const bytes = (event.data as { bytes?: number }).bytes ?? event.data.image.byteLength;
      return `${head} ${nodeLabel(event.data.nodeId, hint)} ${event.data.mimeType} ${bytes} bytes`;
    }
    case 'progress_text':
      return `${head} ${nodeLabel(event.data.nodeId, hint)} ${event.data.text}`;
    case 'unknown':
      return `${head} ${event.data.type}`;
  }
}
