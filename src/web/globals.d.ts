// Inlined by scripts/build-web.js: the bundled examples (examples/*.json holding devices), by bare name.
declare const PAGE_EXAMPLES: Record<string, unknown>
