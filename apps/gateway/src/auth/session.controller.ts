import {
  Inject,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import type { Request, Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { PeopleSessions, SESSION_COOKIE, cookieValue } from './people-sessions.service';
import type { Principal } from './principal';
import { CurrentPrincipal, Public, Roles } from './roles.decorator';

export class SignInDto {
  @ApiProperty({ example: 'at-clerk' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  username!: string;

  @ApiProperty({ description: 'Never logged, never stored: only its scrypt hash is kept' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;
}

const ONE_SIGN_IN =
  'wrong username or password, or the account is locked after too many failed sign-ins (try again later)';

/**
 * Sign-in for people (the workspace). The session token travels only in an HttpOnly, Secure,
 * SameSite=Strict cookie; the answer carries the CSRF token the page sends back in the
 * `X-CSRF-Token` header with every request that changes something.
 */
@ApiTags('session')
@Controller('v1/session')
export class SessionController {
  constructor(
    private readonly people: PeopleSessions,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post()
  @Public()
  @HttpCode(201)
  @ApiOperation({ summary: 'Sign in with a username and password (sets the session cookie)' })
  async signIn(
    @Body() body: SignInDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<unknown> {
    const signedIn = await this.people.signIn(body.username, body.password, request.ip ?? null);
    if (!signedIn) throw new UnauthorizedException(ONE_SIGN_IN);
    response.cookie(SESSION_COOKIE, signedIn.token, {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: '/',
      expires: signedIn.expiresAt,
    });
    return {
      ...view(signedIn.principal),
      state: this.config.state,
      csrfToken: signedIn.csrfToken,
      expiresAt: signedIn.expiresAt.toISOString(),
    };
  }

  @Get()
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'Who is signed in, and the CSRF token of the session' })
  async current(@Req() request: Request & { sessionToken?: string }): Promise<unknown> {
    const token = request.sessionToken;
    if (!token) throw new NotFoundException('no session: API keys sign nothing in');
    const checked = await this.people.check(token, 'GET', undefined);
    if (!checked.ok) throw new UnauthorizedException(checked.reason);
    return {
      ...view(checked.principal),
      state: this.config.state,
      csrfToken: checked.csrfToken,
      expiresAt: checked.expiresAt.toISOString(),
    };
  }

  @Delete()
  @Roles('clerk', 'operator', 'auditor')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out (needs the CSRF token)' })
  async signOut(
    @Req() request: Request & { sessionToken?: string },
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const token = request.sessionToken ?? cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (!token) throw new NotFoundException('no session: API keys sign nothing in');
    await this.people.signOut(token, principal);
    response.clearCookie(SESSION_COOKIE, {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: '/',
    });
  }
}

function view(principal: Principal): { username: string; role: string; authority: string | null } {
  return { username: principal.id, role: principal.role, authority: principal.authority };
}
