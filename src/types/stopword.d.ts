// stopword ships no type declarations; Docent only reads its English list.
declare module 'stopword' {
  export const eng: string[];
}
