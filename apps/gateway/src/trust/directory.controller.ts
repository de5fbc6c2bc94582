import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { AUTHORITY_TYPES, STATE_CODE, type AuthorityType } from '@comity/protocol';
import { Roles } from '../auth/roles.decorator';
import { FederationTrust } from './federation-trust';

export class AuthorityQueryDto {
  @ApiPropertyOptional({ example: 'FR' })
  @IsOptional()
  @Matches(STATE_CODE, { message: 'state must be an ISO 3166 alpha-2 code such as FR' })
  state?: string;

  @ApiPropertyOptional({ enum: AUTHORITY_TYPES })
  @IsOptional()
  @IsIn(AUTHORITY_TYPES)
  type?: AuthorityType;
}

/** The directory of competent authorities, as this node holds it (signed, verified, in force). */
@ApiTags('directory')
@Roles('clerk', 'operator', 'auditor')
@Controller('v1/directory')
export class DirectoryController {
  constructor(private readonly trust: FederationTrust) {}

  @Get()
  @ApiOperation({ summary: 'The directory edition in force: version, validity, States' })
  summary(): Record<string, unknown> {
    const directory = this.trust.directory;
    return {
      federation: directory.federation,
      ...directory.validity,
      states: directory.allStates().map((state) => ({
        code: state.code,
        name: state.name,
        authorities: state.authorities.length,
      })),
      revokedCertificates: directory.revokedCertificates().length,
    };
  }

  @Get('authorities')
  @ApiOperation({ summary: 'Search the competent authorities by State and type' })
  authorities(@Query() query: AuthorityQueryDto): Array<Record<string, unknown>> {
    return this.trust.directory
      .allStates()
      .filter((state) => !query.state || state.code === query.state)
      .flatMap((state) =>
        state.authorities
          .filter((authority) => !query.type || authority.types.includes(query.type))
          .map((authority) => ({ state: state.code, stateName: state.name, ...authority })),
      );
  }
}
