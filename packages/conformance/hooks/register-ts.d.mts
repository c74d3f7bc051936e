// `--import`-only module: registering the TypeScript hooks is its whole effect.
export {};
