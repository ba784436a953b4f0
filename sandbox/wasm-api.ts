// The slice of the WebAssembly JS API the sandbox uses. The project's TypeScript libs (ES2024 +
// @types/node, no DOM) do not declare the WebAssembly global, so it is typed here.

export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export interface WasmDescriptor {
  readonly module: string;
  readonly name: string;
  readonly kind: string;
}
export interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  readonly Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(module: WasmModule): WasmDescriptor[];
    exports(module: WasmModule): Array<{ name: string; kind: string }>;
  };
  readonly Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  readonly RuntimeError: abstract new (...args: never[]) => Error;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
