// The explorer's Web Worker. It runs the page's own wasm: the page posts the URL of the app's
// wasm-bindgen module, the compiled WebAssembly.Module and the request (see
// web/src/explore_worker.rs). Initialising the module runs the app's `main`, which returns at
// once without a window; `explore_in_worker` then runs the search in slices, yielding here
// between slices so that a Stop message can arrive.

let stopRequested = false;
let started = false;

const post = (json) => self.postMessage(json);
const failed = (message) => post(JSON.stringify({ failed: { message } }));
const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

self.onmessage = async (event) => {
  const data = event.data;
  if (data && data.stop) {
    stopRequested = true;
    return;
  }
  if (started) {
    return;
  }
  started = true;
  let bindings;
  try {
    bindings = await import(data.moduleUrl);
    await bindings.default({ module_or_path: data.wasmModule });
  } catch (error) {
    failed(`the explorer could not load the app's wasm in its worker: ${error}`);
    return;
  }
  try {
    await bindings.explore_in_worker(data.request, post, () => stopRequested, pause);
  } catch (error) {
    // A trap (out of memory, most likely) ends the search; say so instead of going quiet.
    failed(`the explorer stopped with an error (${error}); lower the bounds or the cap on states`);
  }
};
