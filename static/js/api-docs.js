// Swagger UI over /api/v1/openapi.json (templates/api/docs.html); "Authorize" takes the API key.
(function () {
  var element = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    domNode: element,
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
})();
