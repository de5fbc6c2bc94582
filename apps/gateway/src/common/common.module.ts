import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';

/** Leaf helpers every module may use: the one source of "now". */
@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class CommonModule {}
