/**
 * Geodata Handler
 * Handles geolocation requests from miniapp
 */
import { EVENT_TYPES } from "../constants";
import { createHostResponse, } from "../utils/messageHelpers";
/**
 * Get geolocation using browser Geolocation API
 */
function getBrowserGeolocation() {
    return new Promise((resolve, reject) => {
        if (!navigator.geolocation) {
            reject(new Error("Geolocation is not supported by this browser"));
            return;
        }
        navigator.geolocation.getCurrentPosition((position) => resolve(position), (error) => reject(error), {
            enableHighAccuracy: false,
            timeout: 10000,
            maximumAge: 300000, // 5 minutes
        });
    });
}
/**
 * Handle geodata events
 */
export async function handleGeodataEvent(params, requestId, config) {
    try {
        config.log("Handling geodata event", params);
        // Check if geolocation is supported
        if (!navigator.geolocation) {
            const error = new Error("Geolocation is not supported by this browser");
            config.log("Geolocation not supported", error);
            config.sendErrorResponse("AppBoxoWebAppGetGeodata", error, requestId);
            return;
        }
        // Check permission status (if Permissions API is available) - for logging only
        // Note: We still try to get geolocation even if permission is denied,
        // because permission state in hostapp context may differ from iframe context
        let permissionState = null;
        if ("permissions" in navigator) {
            try {
                const result = await navigator.permissions.query({
                    name: "geolocation",
                });
                permissionState = result.state;
                config.log("Geolocation permission state", permissionState);
                // If permission is denied, log but still try (user might have denied in iframe but not in hostapp)
                if (permissionState === "denied") {
                    config.log("Permission state is denied, but attempting anyway (hostapp context may differ)");
                }
            }
            catch (error) {
                // Permissions API not supported or failed, continue anyway
                config.log("Permissions API not available, proceeding with geolocation request");
            }
        }
        // Always try to get geolocation - even if permission appears denied
        // This allows the browser to show permission prompt in hostapp context
        // The browser will handle permission denial gracefully
        const position = await getBrowserGeolocation();
        const geodataResponse = {
            available: true,
            lat: position.coords.latitude.toString(),
            long: position.coords.longitude.toString(),
        };
        const response = createHostResponse(EVENT_TYPES.GEODATA, geodataResponse, requestId);
        config.sendResponseToMiniapp(response);
        config.log("Geodata sent to miniapp", geodataResponse);
    }
    catch (error) {
        config.log("Geodata failed", error);
        config.log("Geodata error details", {
            error,
            type: typeof error,
            hasCode: error && typeof error === "object" && "code" in error,
            code: error && typeof error === "object" && "code" in error
                ? error.code
                : undefined,
            message: error instanceof Error ? error.message : String(error),
        });
        // Handle specific geolocation errors
        if (error && typeof error === "object" && "code" in error) {
            let errorMessage = "Failed to get geolocation";
            const geolocationError = error;
            if (geolocationError.code === 1) {
                errorMessage = "Geolocation permission denied";
                config.log("Permission denied - user needs to enable in browser settings");
            }
            else if (geolocationError.code === 2) {
                errorMessage = "Geolocation position unavailable";
            }
            else if (geolocationError.code === 3) {
                errorMessage = "Geolocation request timeout";
            }
            config.sendErrorResponse("AppBoxoWebAppGetGeodata", new Error(errorMessage), requestId);
        }
        else {
            config.sendErrorResponse("AppBoxoWebAppGetGeodata", error, requestId);
        }
    }
}
//# sourceMappingURL=geodataHandler.js.map