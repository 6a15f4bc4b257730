import type sharpType from 'sharp';

export type Sharp = typeof sharpType;

let loading: Promise<Sharp> | undefined;

/**
 * sharp loads libvips, tens of milliseconds: load it when the first image is processed, not when
 * the process starts (an MCP client waits on our start-up before it can list tools).
 */
export function loadSharp(): Promise<Sharp> {
  return (loading ??= import('sharp').then((m) => m.default));
}
