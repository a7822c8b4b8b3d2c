// Types for @echogarden/rnnoise-wasm (RNNoise built with Emscripten; the package ships none).
declare module "@echogarden/rnnoise-wasm" {
  export interface RnnoiseModule {
    HEAPF32: Float32Array;
    _rnnoise_get_frame_size(): number;
    /** A denoiser state; 0 = the built-in model. */
    _rnnoise_create(model: number): number;
    _rnnoise_destroy(state: number): void;
    /** Denoises one frame (floats in the s16 range) from `input` into `output`; returns the voice probability. */
    _rnnoise_process_frame(state: number, output: number, input: number): number;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  }
  const createRnnoise: () => Promise<RnnoiseModule>;
  export default createRnnoise;
}
