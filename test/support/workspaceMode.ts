// Tests whose workflows write files into the folder for the test to read run GitHub jobs in the folder itself
// (DELIVERY_WORKSPACE=shared, as `--workspace shared` does); test/system/workspaces.test.ts covers isolation.
// Set for the describe block it is called in, and restored after it.
export function useSharedWorkspaces(): void {
  let saved: string | undefined;
  before(() => {
    saved = process.env.DELIVERY_WORKSPACE;
    process.env.DELIVERY_WORKSPACE = 'shared';
  });
  after(() => {
    if (saved === undefined) delete process.env.DELIVERY_WORKSPACE;
    else process.env.DELIVERY_WORKSPACE = saved;
  });
}
