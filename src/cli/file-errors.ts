/** A file-system error as the end of one line: "cannot read 'x.ad': <this>". */
export function describeFileError(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
    case 'EEXIST': // from mkdir: a file where a folder of the path should be
      return 'a part of the path is not a directory';
    default:
      return (error as Error).message ?? String(error);
  }
}
