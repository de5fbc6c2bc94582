import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import type { DraftPurpose } from '../persistence/request-draft.repository';
import { DraftIdParamDto, DraftView, SaveDraftDto } from './drafts.dto';
import { DraftsService } from './drafts.service';

/** The same five routes for drafts (`/v1/drafts`) and templates (`/v1/templates`). */
function draftRoutes(purpose: DraftPurpose, path: string) {
  @ApiTags('request writer')
  @Roles('clerk')
  @Controller(path)
  class DraftRoutes {
    constructor(readonly drafts: DraftsService) {}

    @Get()
    @ApiOperation({ summary: `The ${purpose}s this clerk may use, newest first (no forms)` })
    @ApiOkResponse({ type: [DraftView] })
    list(@CurrentPrincipal() principal: Principal): Promise<DraftView[]> {
      return this.drafts.list(purpose, principal);
    }

    @Post()
    @HttpCode(201)
    @ApiOperation({ summary: `Save a new ${purpose} (sealed at rest)` })
    @ApiCreatedResponse({ type: DraftView })
    create(
      @Body() input: SaveDraftDto,
      @CurrentPrincipal() principal: Principal,
    ): Promise<DraftView> {
      return this.drafts.create(purpose, input, principal);
    }

    @Get(':id')
    @ApiOperation({ summary: `One ${purpose}, with its form` })
    @ApiOkResponse({ type: DraftView })
    get(
      @Param() { id }: DraftIdParamDto,
      @CurrentPrincipal() principal: Principal,
    ): Promise<DraftView> {
      return this.drafts.get(purpose, id, principal);
    }

    @Put(':id')
    @ApiOperation({ summary: `Save a ${purpose} again; 409 when it changed since \`revision\`` })
    @ApiOkResponse({ type: DraftView })
    update(
      @Param() { id }: DraftIdParamDto,
      @Body() input: SaveDraftDto,
      @CurrentPrincipal() principal: Principal,
    ): Promise<DraftView> {
      return this.drafts.update(purpose, id, input, principal);
    }

    @Delete(':id')
    @HttpCode(204)
    @ApiOperation({ summary: `Delete a ${purpose} (a draft: once sent)` })
    async remove(
      @Param() { id }: DraftIdParamDto,
      @CurrentPrincipal() principal: Principal,
    ): Promise<void> {
      await this.drafts.remove(purpose, id, principal);
    }
  }
  // Its own name, for the API description's operation ids (DraftsController_list, …).
  Object.defineProperty(DraftRoutes, 'name', {
    value: `${purpose[0]!.toUpperCase()}${purpose.slice(1)}sController`,
  });
  return DraftRoutes;
}

export const DraftsController = draftRoutes('draft', 'v1/drafts');
export const TemplatesController = draftRoutes('template', 'v1/templates');
