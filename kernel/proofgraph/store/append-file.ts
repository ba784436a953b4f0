// An open file that only grows: each append is one positional writev followed by one fdatasync.
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError, ioError } from './errors.js';
import { fsyncDir } from './durable-fs.js';

export class AppendFile {
  /** fdatasync calls completed on this file. */
  syncs = 0;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private end: number,
  ) {}

  /** Opens an existing file to append at byte `end` (everything after it was cut by recovery). */
  static async openAt(path: string, end: number): Promise<AppendFile> {
    try {
      return new AppendFile(path, await open(path, 'r+'), end);
    } catch (err) {
      throw ioError('open', path, err);
    }
  }

  /**
   * Creates the file (it must not exist) holding only `header`, and makes both the contents and
   * the directory entry durable before any record is appended.
   */
  static async create(path: string, header: Uint8Array): Promise<AppendFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx');
    } catch (err) {
      throw ioError('create', path, err);
    }
    const file = new AppendFile(path, fh, 0);
    try {
      await file.append([header], header.length);
      await fsyncDir(dirname(path));
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw ioError('initialise', path, err);
    }
    return file;
  }

  get bytes(): number {
    return this.end;
  }

  async append(buffers: Uint8Array[], byteLength: number): Promise<void> {
    const { bytesWritten } = await this.fh.writev(buffers, this.end);
    if (bytesWritten !== byteLength) {
      throw new StoreError('ERR_STORE_IO', `${this.path}: short write of ${bytesWritten} of ${byteLength} bytes at offset ${this.end}`, {
        path: this.path,
        offset: this.end,
      });
    }
    this.end += byteLength;
    await this.fh.datasync();
    this.syncs++;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
