import {
  type ArgumentMetadata,
  BadRequestException,
  Injectable,
  type PipeTransform,
} from '@nestjs/common';

/** No request of ours nests deeper than this; deeper input would only exhaust the stack downstream. */
export const MAX_JSON_DEPTH = 16;

/**
 * Refuses absurdly nested request bodies before validation and transformation walk them
 * recursively (a 5,000-level body would otherwise overflow the stack: a 500, not a 400).
 */
@Injectable()
export class JsonDepthPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') return value;
    let level: unknown[] = [value];
    for (let depth = 0; level.length > 0; depth += 1) {
      if (depth > MAX_JSON_DEPTH) {
        throw new BadRequestException({
          statusCode: 400,
          error: 'Bad Request',
          message: [`the request body nests deeper than ${MAX_JSON_DEPTH} levels`],
        });
      }
      level = level.flatMap((item) =>
        typeof item === 'object' && item !== null
          ? Object.values(item as Record<string, unknown>)
          : [],
      );
    }
    return value;
  }
}
