import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand,
  type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { KeelError } from '@keel/core';

import { askBeforeSending, type BeforeSend } from './before-send.js';
import { PARTS_MAX } from './options.js';

export interface MultipartContext {
  client: S3Client;
  bucket: string;
  partBytes: number;
  partConcurrency: number;
  /** Runs one request with the store's retries; `signal` covers the call and its retries. */
  retry<T>(what: string, signal: AbortSignal | undefined, attempt: (signal: AbortSignal | undefined) => Promise<T>): Promise<T>;
  /** Counts a request the store sent. */
  sent(bytes: number): void;
}

/**
 * Uploads `bytes` in parts of `partBytes` (the last may be shorter), `partConcurrency` at
 * a time, each with its own retries and a signed SHA-256 of its bytes the store checks;
 * `beforeSend`, when given, is awaited before each part's first request. The metadata goes
 * on the upload, so the finished object carries it. If anything fails, the upload is
 * aborted (best effort) so its parts do not linger, and the first failure is reported.
 */
export async function putMultipart(
  context: MultipartContext,
  key: string,
  bytes: Uint8Array,
  metadata: Record<string, string>,
  signal: AbortSignal | undefined,
  beforeSend?: BeforeSend,
): Promise<void> {
  const partCount = Math.ceil(bytes.length / context.partBytes);
  if (partCount > PARTS_MAX) throw new KeelError('KEEL_TOO_LARGE', `${bytes.length} bytes need ${partCount} parts; S3 allows ${PARTS_MAX}`);
  const created = await context.retry('create multipart upload', signal, (attemptSignal) => {
    context.sent(0);
    return context.client.send(
      new CreateMultipartUploadCommand({ Bucket: context.bucket, Key: key, Metadata: metadata, ContentType: 'application/octet-stream' }),
      { abortSignal: attemptSignal },
    );
  });
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new KeelError('KEEL_REMOTE_REFUSED', `the store started a multipart upload of ${key} without an upload id`);
  // One failed part stops the others: their in-flight requests are aborted.
  const stopParts = new AbortController();
  const partSignal = signal === undefined ? stopParts.signal : AbortSignal.any([signal, stopParts.signal]);
  try {
    const parts: CompletedPart[] = new Array(partCount);
    let next = 0;
    let failure: { error: unknown } | undefined;
    const uploadParts = async () => {
      while (next < partCount && failure === undefined) {
        const index = next++;
        const body = bytes.subarray(index * context.partBytes, Math.min(bytes.length, (index + 1) * context.partBytes));
        // Paced per part (the caller's copy quota), asked in part order: indexes are taken
        // and the hook called before any await, so the hook sees parts as they are numbered.
        if (beforeSend !== undefined) await askBeforeSending(beforeSend, body.length, partSignal, signal, `upload part ${index + 1}/${partCount} of ${key}`);
        // Another part failed while this one waited: the upload is over, send nothing.
        if (failure !== undefined) return;
        const uploaded = await context.retry(`upload part ${index + 1}/${partCount} of`, partSignal, (attemptSignal) => {
          context.sent(body.length);
          return context.client.send(
            new UploadPartCommand({
              Bucket: context.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body, ContentLength: body.length,
            }),
            { abortSignal: attemptSignal },
          );
        });
        parts[index] = { PartNumber: index + 1, ETag: uploaded.ETag };
      }
    };
    const workers = Array.from({ length: Math.min(context.partConcurrency, partCount) }, () => uploadParts().catch((error: unknown) => {
      failure ??= { error };
      stopParts.abort(error);
    }));
    await Promise.all(workers);
    if (failure !== undefined) throw failure.error;
    await context.retry('complete multipart upload of', signal, (attemptSignal) => {
      context.sent(0);
      return context.client.send(
        new CompleteMultipartUploadCommand({ Bucket: context.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        { abortSignal: attemptSignal },
      );
    });
  } catch (error) {
    await abortUpload(context, key, uploadId);
    throw error;
  }
}

async function abortUpload(context: MultipartContext, key: string, uploadId: string): Promise<void> {
  try {
    context.sent(0);
    await context.client.send(new AbortMultipartUploadCommand({ Bucket: context.bucket, Key: key, UploadId: uploadId }), {
      abortSignal: AbortSignal.timeout(5_000),
    });
  } catch {
    // The store may be the reason the upload failed; its lifecycle rules clean up what is left.
  }
}
