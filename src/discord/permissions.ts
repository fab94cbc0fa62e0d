import { PermissionFlagsBits, type Interaction } from 'discord.js';

export interface AdminCheck {
  readonly allowed: boolean;
  /** Why not, in words for the user. */
  readonly reason?: string;
}

/** The roles of the member behind an interaction, whether discord.js cached the member or not. */
export function memberRoleIds(interaction: Interaction): string[] {
  const roles = interaction.member?.roles;
  if (roles === undefined) return [];
  return Array.isArray(roles) ? roles : [...roles.cache.keys()];
}

/**
 * /reindex and /gaps are hidden from non-admins by its default member permissions, but server owners can
 * override those, so it is checked again here: Manage Server, and one of ADMIN_ROLE_IDS when set.
 */
export function checkAdmin(canManageServer: boolean, roleIds: readonly string[], adminRoleIds: readonly string[], action = 're-index'): AdminCheck {
  if (!canManageServer) return { allowed: false, reason: `Only admins (Manage Server permission) can ${action}.` };
  if (adminRoleIds.length > 0 && !roleIds.some((id) => adminRoleIds.includes(id))) {
    return { allowed: false, reason: `Only members with an admin role configured for Docent can ${action}.` };
  }
  return { allowed: true };
}

export function interactionIsAdmin(interaction: Interaction, adminRoleIds: readonly string[], action?: string): AdminCheck {
  const canManage = interaction.inGuild() && (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false);
  return checkAdmin(canManage, memberRoleIds(interaction), adminRoleIds, action);
}
