import { Injectable } from '@nestjs/common';

/** The one source of "now", so tests can move time and services never call Date directly. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
