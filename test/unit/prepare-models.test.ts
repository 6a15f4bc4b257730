import { sameModel } from '../../src/generation/prepare.js';

describe('model names across path separators', () => {
  const windows = ['sd15\\dreamshaper_8.safetensors', 'sdxl\\base.safetensors'];
  it('finds the server spelling of a name given with the other separator', () => {
    expect(sameModel('sd15/dreamshaper_8.safetensors', windows)).toBe('sd15\\dreamshaper_8.safetensors');
    expect(sameModel('sdxl\\base.safetensors', ['sdxl/base.safetensors'])).toBe('sdxl/base.safetensors');
  });
  it('leaves exact and unknown names alone', () => {
    expect(sameModel('sd15\\dreamshaper_8.safetensors', windows)).toBeUndefined();
    expect(sameModel('sd15/other.safetensors', windows)).toBeUndefined();
  });
});
