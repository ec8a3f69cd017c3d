// wrap-ansi 7 (the major @oclif/core itself depends on, so one copy is shared) ships no type declarations.
declare module 'wrap-ansi' {
  export default function wrapAnsi(input: string, columns: number, options?: {hard?: boolean; trim?: boolean; wordWrap?: boolean}): string
}
